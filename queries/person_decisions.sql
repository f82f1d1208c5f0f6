-- name: person_decisions
-- about: The latest decision a person made per test and error fingerprint (the classifier repeats it).
-- reads: error_triage, reports, test_failures
SELECT workflow_name, test_file, test_name, fingerprint, decision
FROM (
    SELECT r.workflow_name, COALESCE(f.test_file, '') AS test_file, f.test_name, t.fingerprint,
           t.decision,
           ROW_NUMBER() OVER (
               PARTITION BY r.workflow_name, COALESCE(f.test_file, ''), f.test_name, t.fingerprint
               ORDER BY t.decided_at DESC, t.id DESC
           ) AS newest
    FROM error_triage t
    JOIN test_failures f ON f.id = t.test_failure_id
    JOIN reports r ON r.id = f.report_id
    WHERE t.decided_by IS NOT NULL AND t.fingerprint IS NOT NULL
) d
WHERE newest = 1
