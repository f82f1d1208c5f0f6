-- name: failure_trend_by_day
-- about: Failures, failed runs and failing tests per day (UTC) over the last N days.
-- reads: reports, test_failures
-- param: workflow text = NULL  # only this workflow
-- param: days int = 30  # window, counted back from now
-- param: now int = now  # the clock the window counts back from (epoch seconds)
-- times: day
-- Portable SQL: the benchmark runs this same text in SQLite's engine to compare.
SELECT f.created_at - f.created_at % 86400 AS day,
       COUNT(*) AS failures,
       COUNT(DISTINCT f.report_id) AS failed_runs,
       COUNT(DISTINCT f.test_name) AS failing_tests
FROM test_failures f
JOIN reports r ON r.id = f.report_id
WHERE ($workflow IS NULL OR r.workflow_name = $workflow)
  AND f.created_at >= $now - $days * CAST(86400 AS BIGINT)
GROUP BY f.created_at - f.created_at % 86400
ORDER BY day
