-- name: run_compare
-- about: Two runs side by side: each test that failed in either, and whether it newly fails, was fixed, or still fails in the later one (or did not run in it).
-- reads: test_failures, test_results
-- param: base int = 0  # the earlier run (a report id)
-- param: head int = 0  # the later run (a report id)
WITH failed AS (
    SELECT report_id, test_name, MAX(id) AS failure_id
    FROM test_failures
    WHERE report_id IN ($base, $head) AND COALESCE(outcome, 'failed') <> 'flaky'
    GROUP BY report_id, test_name
),
tests AS (SELECT DISTINCT test_name FROM failed),
-- Whether the later run has per-test outcomes at all (reports ingested by pmdash do).
head_results AS (SELECT COUNT(*) AS n FROM test_results WHERE report_id = $head),
compared AS (
    SELECT t.test_name,
           CASE WHEN h.test_name IS NOT NULL AND b.test_name IS NULL THEN 'newly failing'
                WHEN h.test_name IS NOT NULL THEN 'still failing'
                WHEN hr.outcome = 'skipped' THEN 'skipped now'
                WHEN hr.outcome IS NULL AND (SELECT n FROM head_results) > 0 THEN 'not run now'
                ELSE 'fixed' END AS change,
           COALESCE(h.failure_id, b.failure_id) AS failure_id
    FROM tests t
    LEFT JOIN failed h ON h.test_name = t.test_name AND h.report_id = $head
    LEFT JOIN failed b ON b.test_name = t.test_name AND b.report_id = $base
    LEFT JOIN test_results hr ON hr.test_name = t.test_name AND hr.report_id = $head
)
SELECT * FROM compared
ORDER BY CASE change WHEN 'newly failing' THEN 0 WHEN 'still failing' THEN 1 ELSE 2 END,
         test_name
