-- name: triage_agreement
-- about: How often people kept the classifier's decision: overall, per rule and per ISO week of the decision.
SELECT 'overall' AS scope, 'all' AS bucket,
       COUNT(*) AS reviewed,
       SUM(CASE WHEN decision = suggested_decision THEN 1 ELSE 0 END) AS kept,
       AVG(CASE WHEN decision = suggested_decision THEN 1.0 ELSE 0.0 END) AS agreement
FROM error_triage
WHERE decided_by IS NOT NULL AND suggested_decision IS NOT NULL
UNION ALL
SELECT 'rule', COALESCE(NULLIF(split_part(suggested_rules, ',', 1), ''), '(none)'),
       COUNT(*),
       SUM(CASE WHEN decision = suggested_decision THEN 1 ELSE 0 END),
       AVG(CASE WHEN decision = suggested_decision THEN 1.0 ELSE 0.0 END)
FROM error_triage
WHERE decided_by IS NOT NULL AND suggested_decision IS NOT NULL
GROUP BY 2
UNION ALL
SELECT 'week', strftime(to_timestamp(decided_at), '%G-W%V'),
       COUNT(*),
       SUM(CASE WHEN decision = suggested_decision THEN 1 ELSE 0 END),
       AVG(CASE WHEN decision = suggested_decision THEN 1.0 ELSE 0.0 END)
FROM error_triage
WHERE decided_by IS NOT NULL AND suggested_decision IS NOT NULL AND decided_at IS NOT NULL
GROUP BY 2
ORDER BY 1, 2
