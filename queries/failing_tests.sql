-- name: failing_tests
-- about: One row per failing test with its latest failure, that failure's triage (classification, decision, priority), how often it failed, its latest remediation attempt, the session on it and the mute in force if any (a muted test raises no priority); for the Errors page.
-- reads: error_triage, remediation_attempts, reports, test_failures, test_mutes, test_results
-- param: project text = NULL  # only this project (reports.project, else the workflow name)
-- param: since int = NULL  # failures at or after this epoch second
-- param: until int = NULL  # failures before this epoch second
-- param: now int = now  # the clock mutes expire by (epoch seconds)
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
),
latest_attempt AS (
    SELECT r.workflow_name, a.test_name, arg_max(a.status, a.id) AS status,
           arg_max(a.rerun_passed, a.id) AS rerun_passed
    FROM remediation_attempts a
    JOIN reports r ON r.id = a.report_id
    GROUP BY r.workflow_name, a.test_name
),
-- The session last put on any failure of the test: a test that failed again after a session
-- took it on is still that session's work. Few triage rows have one, so this stays small.
session_on_test AS (
    SELECT r.workflow_name, f.test_name,
           arg_max(t.assigned_session_id, t.test_failure_id) AS session_id
    FROM error_triage t
    JOIN test_failures f ON f.id = t.test_failure_id
    JOIN reports r ON r.id = f.report_id
    WHERE t.assigned_session_id IS NOT NULL
    GROUP BY r.workflow_name, f.test_name
),
-- A mute is in force until it expires, a person ends it, or the test passes a run after it.
active_mutes AS (
    SELECT m.workflow_name, m.test_name, m.reason, m.muted_by, m.expires_at
    FROM test_mutes m
    WHERE m.ended_at IS NULL AND m.expires_at > $now
      AND NOT EXISTS (
          SELECT 1 FROM test_results tr JOIN reports r2 ON r2.id = tr.report_id
          WHERE r2.workflow_name = m.workflow_name AND tr.test_name = m.test_name
            AND tr.outcome = 'passed' AND r2.created_at > m.muted_at
      )
)
SELECT p.failure_id, p.project, p.workflow_name, p.test_file, p.test_name, p.occurrences,
       to_timestamp(p.first_seen) AS first_seen, to_timestamp(p.last_seen) AS last_seen,
       COALESCE(NULLIF(split_part(t.suggested_rules, ',', 1), ''), 'UNCLASSIFIED') AS first_rule,
       history_class(t.suggested_rules, t.id IS NOT NULL) AS classification,
       COALESCE(t.decision, 'untriaged') AS decision,
       CASE WHEN am.test_name IS NOT NULL THEN 1 ELSE COALESCE(t.priority, 3) END AS priority,
       t.suggested_decision, t.suggested_confidence, t.rationale, t.fingerprint,
       t.decided_by, t.assigned_session_id, t.spec_change_id, lf.error,
       CASE WHEN la.status IS NULL THEN 'none'
            WHEN la.rerun_passed = 1 THEN 'rerun passed'
            WHEN la.status = 'fixed' AND la.rerun_passed = 0 THEN 'rerun failed'
            ELSE replace(la.status, '_', ' ') END AS remediation,
       COALESCE(t.assigned_session_id, so.session_id) AS session_on_test,
       am.test_name IS NOT NULL AS muted, am.reason AS mute_reason, am.muted_by,
       to_timestamp(am.expires_at) AS muted_until
FROM per_test p
JOIN test_failures lf ON lf.id = p.failure_id
LEFT JOIN error_triage t ON t.test_failure_id = p.failure_id
LEFT JOIN latest_attempt la ON la.workflow_name = p.workflow_name AND la.test_name = p.test_name
LEFT JOIN session_on_test so ON so.workflow_name = p.workflow_name AND so.test_name = p.test_name
LEFT JOIN active_mutes am ON am.workflow_name = p.workflow_name AND am.test_name = p.test_name
ORDER BY priority DESC, p.last_seen DESC
