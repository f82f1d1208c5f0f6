-- name: failure_trend_by_class
-- about: Failures per day by the classifier's classification (PERSISTENT, RECURRING, FLAKY, NEW).
-- reads: error_triage, reports, test_failures
-- param: project text = NULL  # only this project
-- param: since int = NULL  # from this epoch second
-- param: until int = NULL  # before this epoch second
-- times: day
-- The day (UTC) as epoch seconds, made a timestamp by the runner: converting a million
-- timestamps here would cost as much as the rest of the query.
SELECT f.created_at - f.created_at % 86400 AS day,
       history_class(t.suggested_rules, t.id IS NOT NULL) AS classification,
       count(*) AS failures
FROM test_failures f
JOIN reports r ON r.id = f.report_id
LEFT JOIN error_triage t ON t.test_failure_id = f.id
WHERE ($project IS NULL OR COALESCE(r.project, r.workflow_name) = $project)
  AND ($since IS NULL OR f.created_at >= $since)
  AND ($until IS NULL OR f.created_at < $until)
GROUP BY ALL
ORDER BY day, classification
