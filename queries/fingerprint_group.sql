-- name: fingerprint_group
-- about: The failures that share one error fingerprint (one root cause), per project and test, with how many no person has decided: what deciding the whole group changes.
-- reads: error_triage, reports, test_failures
-- param: fingerprint text = ''  # the fingerprint
-- param: project text = NULL  # only this project
SELECT COALESCE(r.project, r.workflow_name) AS project, r.workflow_name, f.test_name,
       COUNT(*) AS failures,
       SUM(CASE WHEN t.decided_by IS NULL THEN 1 ELSE 0 END) AS undecided,
       MAX(f.id) AS failure_id
FROM error_triage t
JOIN test_failures f ON f.id = t.test_failure_id
JOIN reports r ON r.id = f.report_id
WHERE t.fingerprint = $fingerprint
  AND ($project IS NULL OR COALESCE(r.project, r.workflow_name) = $project)
GROUP BY COALESCE(r.project, r.workflow_name), r.workflow_name, f.test_name
ORDER BY failures DESC, project, f.test_name
