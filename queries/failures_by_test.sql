-- name: failures_by_test
-- about: Failing tests in the last N days, most occurrences first.
-- param: workflow text = NULL  # only this workflow
-- param: days int = 30  # window, counted back from now
-- param: limit int = 100  # how many tests
SELECT r.workflow_name, f.test_file, f.test_name,
       count(*) AS occurrences,
       count(DISTINCT f.report_id) AS failed_runs,
       to_timestamp(min(f.created_at)) AS first_seen,
       to_timestamp(max(f.created_at)) AS last_seen,
       arg_max(f.error, f.created_at) AS last_error
FROM test_failures f
JOIN reports r ON r.id = f.report_id
WHERE ($workflow IS NULL OR r.workflow_name = $workflow)
  AND f.created_at >= epoch(now()) - $days * CAST(86400 AS BIGINT)
GROUP BY ALL
ORDER BY occurrences DESC, last_seen DESC
LIMIT $limit
