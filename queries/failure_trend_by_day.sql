-- name: failure_trend_by_day
-- about: Failures and failed runs per day over the last N days.
-- param: workflow text = NULL  # only this workflow
-- param: days int = 30  # window, counted back from now
SELECT CAST(to_timestamp(f.created_at) AS DATE) AS day,
       count(*) AS failures,
       count(DISTINCT f.report_id) AS failed_runs,
       count(DISTINCT f.test_name) AS failing_tests
FROM test_failures f
JOIN reports r ON r.id = f.report_id
WHERE ($workflow IS NULL OR r.workflow_name = $workflow)
  AND f.created_at >= epoch(now()) - $days * CAST(86400 AS BIGINT)
GROUP BY day
ORDER BY day
