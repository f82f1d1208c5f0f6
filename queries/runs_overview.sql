-- name: runs_overview
-- about: Every run, newest first, with its pass rate and duration, and against the previous run of its workflow: tests newly failing, fixed (failed then, not now) and still failing.
-- reads: reports, test_failures
-- param: project text = NULL  # only this project
-- param: since int = NULL  # runs at or after this epoch second
-- param: until int = NULL  # runs before this epoch second
-- param: limit int = 200  # how many runs
-- times: run_at
WITH ordered AS (
    -- The previous run is the workflow's, whatever the filters show.
    SELECT r.*, LAG(r.id) OVER (
               PARTITION BY r.workflow_name ORDER BY r.created_at, r.id
           ) AS previous_id
    FROM reports r
),
shown AS (
    SELECT * FROM ordered r
    WHERE ($project IS NULL OR COALESCE(r.project, r.workflow_name) = $project)
      AND ($since IS NULL OR r.created_at >= $since)
      AND ($until IS NULL OR r.created_at < $until)
    ORDER BY r.created_at DESC, r.id DESC
    LIMIT $limit
),
-- Failed runs only: a first attempt that a retry fixed did not fail the run.
failed AS (
    SELECT DISTINCT f.report_id, f.test_name
    FROM test_failures f
    WHERE COALESCE(f.outcome, 'failed') <> 'flaky'
      AND f.report_id IN (SELECT id FROM shown UNION SELECT previous_id FROM shown)
),
pairs AS (
    SELECT s.id, a.test_name, 1 AS now_failed, 0 AS then_failed
    FROM shown s JOIN failed a ON a.report_id = s.id
    UNION ALL
    SELECT s.id, b.test_name, 0, 1
    FROM shown s JOIN failed b ON b.report_id = s.previous_id
),
per_test AS (
    SELECT id, test_name, MAX(now_failed) AS now_failed, MAX(then_failed) AS then_failed
    FROM pairs GROUP BY id, test_name
),
changes AS (
    SELECT id,
           SUM(CASE WHEN now_failed = 1 AND then_failed = 0 THEN 1 ELSE 0 END) AS new_failures,
           SUM(CASE WHEN now_failed = 0 AND then_failed = 1 THEN 1 ELSE 0 END) AS fixed,
           SUM(CASE WHEN now_failed = 1 AND then_failed = 1 THEN 1 ELSE 0 END) AS still_failing
    FROM per_test GROUP BY id
)
SELECT s.id AS report_id, COALESCE(s.project, s.workflow_name) AS project, s.workflow_name,
       s.run_number, s.run_attempt, s.created_at AS run_at, s.status, s.total_tests, s.passed,
       s.failed, COALESCE(s.flaky, 0) AS flaky, s.skipped,
       s.passed * 1.0 / NULLIF(s.total_tests - s.skipped, 0) AS pass_rate,
       s.duration_ms / 1000.0 AS duration_s,
       s.previous_id,
       CAST(COALESCE(c.new_failures, 0) AS INTEGER) AS new_failures,
       CAST(COALESCE(c.fixed, 0) AS INTEGER) AS fixed,
       CAST(COALESCE(c.still_failing, 0) AS INTEGER) AS still_failing
FROM shown s
LEFT JOIN changes c ON c.id = s.id
ORDER BY s.created_at DESC, s.id DESC
