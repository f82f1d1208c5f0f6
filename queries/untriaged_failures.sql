-- name: untriaged_failures
-- about: Failures that have no triage row yet (what `pmdata triage run` classifies), with what the report said about where each broke.
-- reads: error_triage, reports, test_failures
-- param: failure_id int = NULL  # only this failure (with or without a triage row)
SELECT f.id AS failure_id, r.workflow_name, COALESCE(r.project, r.workflow_name) AS project,
       COALESCE(f.test_file, '') AS test_file, f.test_name,
       COALESCE(f.error, '') AS error, COALESCE(f.stack_trace, '') AS stack_trace,
       COALESCE(f.error_snippet, '') AS error_snippet, f.error_location,
       COALESCE(f.failed_in, '') AS failed_in, COALESCE(f.final_status, '') AS final_status,
       f.created_at
FROM test_failures f
JOIN reports r ON r.id = f.report_id
LEFT JOIN error_triage t ON t.test_failure_id = f.id
WHERE ($failure_id IS NULL AND t.id IS NULL) OR f.id = $failure_id
ORDER BY f.id
