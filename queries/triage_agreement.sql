-- name: triage_agreement
-- about: How often people kept the classifier's decision: overall, per rule and per ISO week of the decision.
-- reads: error_triage, reports, test_failures
-- param: project text = NULL  # only this project's failures (reports.project, else the workflow name)
WITH reviewed AS (
    SELECT t.decision, t.suggested_decision, t.suggested_rules, t.decided_at,
           CASE WHEN t.decision = t.suggested_decision THEN 1 ELSE 0 END AS kept
    FROM error_triage t
    JOIN test_failures f ON f.id = t.test_failure_id
    JOIN reports r ON r.id = f.report_id
    WHERE t.decided_by IS NOT NULL AND t.suggested_decision IS NOT NULL
      AND ($project IS NULL OR COALESCE(r.project, r.workflow_name) = $project)
)
SELECT 'overall' AS scope, 'all' AS bucket,
       COUNT(*) AS reviewed, COALESCE(SUM(kept), 0) AS kept, AVG(kept * 1.0) AS agreement
FROM reviewed
UNION ALL
SELECT 'rule', COALESCE(NULLIF(split_part(suggested_rules, ',', 1), ''), '(none)'),
       COUNT(*), SUM(kept), AVG(kept * 1.0)
FROM reviewed
GROUP BY 2
UNION ALL
SELECT 'week', strftime(to_timestamp(decided_at), '%G-W%V'), COUNT(*), SUM(kept), AVG(kept * 1.0)
FROM reviewed
WHERE decided_at IS NOT NULL
GROUP BY 2
ORDER BY 1, 2
