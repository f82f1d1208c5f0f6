-- name: failure_detail
-- about: One failure with its run, its triage row and the session on it.
-- reads: error_triage, reports, sessions, test_failures
-- param: failure_id int = 0  # the failure
SELECT f.id AS failure_id, f.test_name, COALESCE(f.test_file, '') AS test_file, f.line_number,
       f.error, f.stack_trace, f.duration, f.retries, to_timestamp(f.created_at) AS failed_at,
       f.outcome, f.failed_in, f.error_location, f.attachments, r.file_path AS report_path,
       r.id AS report_id, r.workflow_name, r.run_number, COALESCE(r.project, r.workflow_name) AS project,
       t.id AS triage_id, t.decision, t.priority, t.rationale, t.suggested_decision,
       t.suggested_priority, t.suggested_confidence, t.suggested_rationale, t.suggested_rules,
       t.fingerprint, t.decided_by, to_timestamp(t.decided_at) AS decided_at,
       t.assigned_session_id, t.spec_change_id, s.agent_id AS session_agent, s.status AS session_status
FROM test_failures f
JOIN reports r ON r.id = f.report_id
LEFT JOIN error_triage t ON t.test_failure_id = f.id
LEFT JOIN sessions s ON s.id = t.assigned_session_id
WHERE f.id = $failure_id
