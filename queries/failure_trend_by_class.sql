-- name: failure_trend_by_class
-- about: Failures per day by the classifier's classification (PERSISTENT, RECURRING, FLAKY, NEW).
-- param: project text = NULL  # only this project
-- param: since int = NULL  # from this epoch second
-- param: until int = NULL  # before this epoch second
SELECT CAST(to_timestamp(f.created_at) AS DATE) AS day,
       CASE WHEN t.suggested_rules LIKE '%PERSISTENT%' THEN 'PERSISTENT'
            WHEN t.suggested_rules LIKE '%RECURRING%' THEN 'RECURRING'
            WHEN t.suggested_rules LIKE '%FLAKY%' THEN 'FLAKY'
            WHEN t.suggested_rules LIKE '%NEW%' THEN 'NEW'
            WHEN t.id IS NULL THEN 'UNTRIAGED'
            ELSE 'OTHER' END AS classification,
       count(*) AS failures
FROM test_failures f
JOIN reports r ON r.id = f.report_id
LEFT JOIN error_triage t ON t.test_failure_id = f.id
WHERE ($project IS NULL OR COALESCE(r.project, r.workflow_name) = $project)
  AND ($since IS NULL OR f.created_at >= $since)
  AND ($until IS NULL OR f.created_at < $until)
GROUP BY ALL
ORDER BY day, classification
