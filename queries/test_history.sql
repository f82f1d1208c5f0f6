-- name: test_history
-- about: Per failing test (workflow + file + title): first and last failure, occurrences, runs, failure rate, consecutive failures up to the latest run, flaky runs and pass/fail flips. From per-run outcomes (test_results) where ingest wrote them, else derived from the workflow's reports (source = 'reports').
-- reads: failure_history, reports, test_failures, test_results
-- param: workflow text = NULL  # only this workflow
-- param: test_name text = NULL  # only this test title
-- Portable SQL: the benchmark runs this same text in SQLite's engine to compare.
WITH runs AS (
    SELECT id AS report_id, workflow_name, created_at,
           ROW_NUMBER() OVER (PARTITION BY workflow_name ORDER BY created_at DESC, id DESC) AS rn
    FROM reports
    WHERE ($workflow IS NULL OR workflow_name = $workflow)
),
failures AS (
    SELECT r.workflow_name, COALESCE(f.test_file, '') AS test_file, f.test_name,
           f.id, f.created_at, r.rn
    FROM test_failures f
    JOIN runs r ON r.report_id = f.report_id
    WHERE ($test_name IS NULL OR f.test_name = $test_name)
),
fail_stats AS (
    SELECT workflow_name, test_file, test_name,
           MIN(created_at) AS first_seen,
           MAX(created_at) AS last_seen,
           COUNT(*) AS occurrences,
           MAX(rn) AS first_rn,
           MAX(id) AS last_failure_id
    FROM failures
    GROUP BY workflow_name, test_file, test_name
),
-- Failed runs by rank (1 = latest run of the workflow). Islands of consecutive failed runs,
-- found with one anti-join instead of a window: a run is an island's older edge when the run
-- before it did not fail. Each island has one older and one newer edge, so from the older
-- edges alone come the streak up to the latest run and the pass/fail flips (a test that ran
-- in every run, as Playwright suites do, flips at each edge but the newest run's). A test is
-- keyed here by its latest failure's id: a million rows joined on one integer, not three
-- strings.
failed_runs AS (
    SELECT DISTINCT s.last_failure_id AS test_key, f.rn
    FROM failures f
    JOIN fail_stats s
      ON s.workflow_name = f.workflow_name AND s.test_file = f.test_file
     AND s.test_name = f.test_name
),
edges AS (
    SELECT a.test_key, a.rn, CASE WHEN older.rn IS NULL THEN 1 ELSE 0 END AS older_edge
    FROM failed_runs a
    LEFT JOIN failed_runs older ON older.test_key = a.test_key AND older.rn = a.rn + 1
),
derived AS (
    SELECT test_key,
           CASE WHEN MIN(rn) = 1 THEN MIN(CASE WHEN older_edge = 1 THEN rn END) ELSE 0 END
             AS consecutive,
           2 * SUM(older_edge) - MAX(CASE WHEN rn = 1 THEN 1 ELSE 0 END) - 1 AS flips
    FROM edges
    GROUP BY test_key
),
-- Results path: every run the test took part in (skips left out). Plain aggregates, no window
-- over the (large) results table: consecutive failures are the failed runs newer than the
-- newest run that did not fail.
result_stats AS (
    SELECT r.workflow_name, COALESCE(t.test_file, '') AS test_file, t.test_name,
           COUNT(*) AS runs,
           SUM(CASE WHEN t.outcome = 'failed' THEN 1 ELSE 0 END) AS failed_runs,
           SUM(CASE WHEN t.outcome = 'flaky' THEN 1 ELSE 0 END) AS flaky_runs,
           MIN(CASE WHEN t.outcome <> 'failed' THEN r.rn END) AS newest_ok_rn
    FROM test_results t
    JOIN runs r ON r.report_id = t.report_id
    WHERE t.outcome <> 'skipped'
      AND ($test_name IS NULL OR t.test_name = $test_name)
    GROUP BY r.workflow_name, COALESCE(t.test_file, ''), t.test_name
),
-- Each test's newest run that did not fail, keyed like failed_runs, so the streak is counted
-- over integers.
newest_ok AS (
    SELECT s.last_failure_id AS test_key, rs.newest_ok_rn
    FROM fail_stats s
    JOIN result_stats rs
      ON rs.workflow_name = s.workflow_name AND rs.test_file = s.test_file
     AND rs.test_name = s.test_name
),
streaks AS (
    SELECT f.test_key, COUNT(*) AS consecutive
    FROM failed_runs f
    JOIN newest_ok n ON n.test_key = f.test_key
    WHERE n.newest_ok_rn IS NULL OR f.rn < n.newest_ok_rn
    GROUP BY f.test_key
)
SELECT s.workflow_name, s.test_file, s.test_name,
       CASE WHEN rs.runs IS NULL THEN 'reports' ELSE 'results' END AS source,
       s.first_seen, s.last_seen, s.occurrences,
       COALESCE(rs.runs, s.first_rn) AS runs,
       CAST(COALESCE(rs.failed_runs, s.occurrences) AS DOUBLE)
         / COALESCE(rs.runs, s.first_rn) AS failure_rate,
       CASE WHEN rs.runs IS NULL THEN d.consecutive ELSE COALESCE(st.consecutive, 0) END
         AS consecutive_failures,
       COALESCE(rs.flaky_runs, 0) AS flaky_runs,
       d.flips,
       s.last_failure_id,
       lf.error AS last_error,
       fh.classification_type AS homelab_classification,
       fh.consecutive_failures AS homelab_consecutive
FROM fail_stats s
JOIN derived d ON d.test_key = s.last_failure_id
LEFT JOIN result_stats rs
  ON rs.workflow_name = s.workflow_name AND rs.test_file = s.test_file
 AND rs.test_name = s.test_name
LEFT JOIN streaks st ON st.test_key = s.last_failure_id
LEFT JOIN test_failures lf ON lf.id = s.last_failure_id
LEFT JOIN failure_history fh ON fh.test_name = s.test_name
ORDER BY s.last_seen DESC, s.workflow_name, s.test_file, s.test_name
