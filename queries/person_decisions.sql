-- name: person_decisions
-- about: The latest decision a person made per project and error fingerprint (root cause), with who made it, when and why: the classifier suggests it again for new failures of that cause.
-- reads: error_triage, reports, test_failures
SELECT project, fingerprint, decision, decided_by, decided_at, rationale
FROM (
    SELECT COALESCE(r.project, r.workflow_name) AS project, t.fingerprint, t.decision,
           t.decided_by, t.decided_at, t.rationale,
           ROW_NUMBER() OVER (
               PARTITION BY COALESCE(r.project, r.workflow_name), t.fingerprint
               ORDER BY t.decided_at DESC, t.id DESC
           ) AS newest
    FROM error_triage t
    JOIN test_failures f ON f.id = t.test_failure_id
    JOIN reports r ON r.id = f.report_id
    WHERE t.decided_by IS NOT NULL AND t.fingerprint IS NOT NULL
) d
WHERE newest = 1
