-- name: triage_failure
-- about: The failure a triage row is about: where a session's `error:<triage id>` work item links.
-- reads: error_triage
-- param: triage_id int = 0  # the error_triage row
SELECT t.test_failure_id AS failure_id
FROM error_triage t
WHERE t.id = $triage_id
