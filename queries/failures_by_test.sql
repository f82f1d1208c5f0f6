-- name: failures_by_test
-- about: Failing tests in the last N days, most occurrences first, with the latest failure's error.
-- reads: reports, test_failures
-- param: workflow text = NULL  # only this workflow
-- param: days int = 30  # window, counted back from now
-- param: limit int = 100  # how many tests
-- param: now int = now  # the clock the window counts back from (epoch seconds)
-- times: first_seen, last_seen
-- Portable SQL: the benchmark runs this same text in SQLite's engine to compare.
WITH recent AS (
    SELECT r.workflow_name, COALESCE(f.test_file, '') AS test_file, f.test_name, f.report_id,
           f.created_at, f.id
    FROM test_failures f
    JOIN reports r ON r.id = f.report_id
    WHERE ($workflow IS NULL OR r.workflow_name = $workflow)
      AND f.created_at >= $now - $days * CAST(86400 AS BIGINT)
),
per_test AS (
    SELECT workflow_name, test_file, test_name,
           COUNT(*) AS occurrences,
           MIN(created_at) AS first_seen,
           MAX(created_at) AS last_seen,
           MAX(id) AS last_failure_id
    FROM recent
    GROUP BY workflow_name, test_file, test_name
),
top AS (
    SELECT * FROM per_test
    ORDER BY occurrences DESC, last_seen DESC, workflow_name, test_file, test_name
    LIMIT $limit
),
-- Runs are counted for the top tests only: a distinct count over every test's failures costs
-- most of the query, and a run normally holds one failure per test.
failed_runs AS (
    SELECT t.last_failure_id, COUNT(DISTINCT r.report_id) AS failed_runs
    FROM top t
    JOIN recent r
      ON r.test_name = t.test_name AND r.test_file = t.test_file
     AND r.workflow_name = t.workflow_name
    GROUP BY t.last_failure_id
)
SELECT p.workflow_name, NULLIF(p.test_file, '') AS test_file, p.test_name, p.occurrences,
       fr.failed_runs, p.first_seen, p.last_seen, lf.error AS last_error
FROM top p
JOIN failed_runs fr ON fr.last_failure_id = p.last_failure_id
JOIN test_failures lf ON lf.id = p.last_failure_id
ORDER BY p.occurrences DESC, p.last_seen DESC, p.workflow_name, p.test_file, p.test_name
