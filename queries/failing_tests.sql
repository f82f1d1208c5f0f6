-- name: failing_tests
-- about: One row per failing test with its latest failure, that failure's triage (classification, decision, priority) and how often it failed; for the Errors page.
-- param: project text = NULL  # only this project (reports.project, else the workflow name)
-- param: since int = NULL  # failures at or after this epoch second
-- param: until int = NULL  # failures before this epoch second
WITH f AS (
    SELECT f.id, f.test_name, COALESCE(f.test_file, '') AS test_file, f.created_at, f.error,
           COALESCE(r.project, r.workflow_name) AS project, r.workflow_name
    FROM test_failures f
    JOIN reports r ON r.id = f.report_id
    WHERE ($project IS NULL OR COALESCE(r.project, r.workflow_name) = $project)
      AND ($since IS NULL OR f.created_at >= $since)
      AND ($until IS NULL OR f.created_at < $until)
),
per_test AS (
    SELECT project, workflow_name, test_file, test_name,
           count(*) AS occurrences, max(created_at) AS last_seen, min(created_at) AS first_seen,
           max(id) AS failure_id
    FROM f
    GROUP BY project, workflow_name, test_file, test_name
)
SELECT p.failure_id, p.project, p.workflow_name, p.test_file, p.test_name, p.occurrences,
       to_timestamp(p.first_seen) AS first_seen, to_timestamp(p.last_seen) AS last_seen,
       COALESCE(NULLIF(split_part(t.suggested_rules, ',', 1), ''), 'UNCLASSIFIED') AS first_rule,
       CASE WHEN t.suggested_rules LIKE '%PERSISTENT%' THEN 'PERSISTENT'
            WHEN t.suggested_rules LIKE '%RECURRING%' THEN 'RECURRING'
            WHEN t.suggested_rules LIKE '%FLAKY%' THEN 'FLAKY'
            WHEN t.suggested_rules LIKE '%NEW%' THEN 'NEW'
            WHEN t.id IS NULL THEN 'UNTRIAGED'
            ELSE 'OTHER' END AS classification,
       COALESCE(t.decision, 'pending') AS decision,
       COALESCE(t.priority, 3) AS priority,
       t.suggested_decision, t.suggested_confidence, t.rationale, t.fingerprint,
       t.decided_by, t.assigned_session_id, t.spec_change_id, lf.error
FROM per_test p
JOIN test_failures lf ON lf.id = p.failure_id
LEFT JOIN error_triage t ON t.test_failure_id = p.failure_id
ORDER BY priority DESC, p.last_seen DESC
