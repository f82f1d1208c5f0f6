-- name: failures_by_test
-- about: Failing tests in the last N days, most occurrences first, with the latest failure's error.
-- param: workflow text = NULL  # only this workflow
-- param: days int = 30  # window, counted back from now
-- param: limit int = 100  # how many tests
-- param: now int = now  # the clock the window counts back from (epoch seconds)
-- times: first_seen, last_seen
-- Portable SQL: the benchmark runs this same text in SQLite's engine to compare.
WITH per_test AS (
    SELECT r.workflow_name, f.test_file, f.test_name,
           COUNT(*) AS occurrences,
           COUNT(DISTINCT f.report_id) AS failed_runs,
           MIN(f.created_at) AS first_seen,
           MAX(f.created_at) AS last_seen,
           MAX(f.id) AS last_failure_id
    FROM test_failures f
    JOIN reports r ON r.id = f.report_id
    WHERE ($workflow IS NULL OR r.workflow_name = $workflow)
      AND f.created_at >= $now - $days * CAST(86400 AS BIGINT)
    GROUP BY r.workflow_name, f.test_file, f.test_name
)
SELECT p.workflow_name, p.test_file, p.test_name, p.occurrences, p.failed_runs,
       p.first_seen, p.last_seen, lf.error AS last_error
FROM per_test p
JOIN test_failures lf ON lf.id = p.last_failure_id
ORDER BY p.occurrences DESC, p.last_seen DESC, p.workflow_name, p.test_file, p.test_name
LIMIT $limit
