-- name: remediation_attempts
-- about: Remediation attempts with their test, project, session and rerun, newest first; one test's when workflow and test_name are given.
-- reads: remediation_attempts, reports, sessions
-- param: project text = NULL  # only this project (reports.project, else the workflow name)
-- param: workflow text = NULL  # only attempts on this workflow's test...
-- param: test_name text = NULL  # ...of this name
SELECT a.id AS attempt_id, a.test_name, r.workflow_name,
       COALESCE(r.project, r.workflow_name) AS project, a.status,
       to_timestamp(a.triggered_at) AS triggered_at, to_timestamp(a.completed_at) AS completed_at,
       a.fix_description, a.pr_url, a.error_message, a.classification_type,
       a.claude_session_id, s.id AS session_id, s.work_item,
       a.rerun_report_id, rr.run_number AS rerun_run_number, a.rerun_passed
FROM remediation_attempts a
JOIN reports r ON r.id = a.report_id
LEFT JOIN reports rr ON rr.id = a.rerun_report_id
LEFT JOIN sessions s ON s.agent_id = a.claude_session_id
WHERE ($project IS NULL OR COALESCE(r.project, r.workflow_name) = $project)
  AND ($workflow IS NULL OR r.workflow_name = $workflow)
  AND ($test_name IS NULL OR a.test_name = $test_name)
ORDER BY a.triggered_at DESC, a.id DESC
