-- name: test_runs
-- about: A test's outcome in each run of its workflow, newest first (per-run outcomes where ingest wrote them, else failed-or-not from the failures).
-- reads: reports, test_failures, test_results
-- param: workflow text = NULL  # the test's workflow
-- param: test_name text = NULL  # the test's title
-- param: limit int = 50  # how many runs
SELECT r.id AS report_id, r.run_number, to_timestamp(r.created_at) AS run_at,
       COALESCE(tr.outcome, CASE WHEN f.id IS NOT NULL THEN 'failed' ELSE 'not failed' END) AS outcome,
       f.id AS failure_id, COALESCE(tr.duration, f.duration) AS duration
FROM reports r
LEFT JOIN test_results tr ON tr.report_id = r.id AND tr.test_name = $test_name
LEFT JOIN test_failures f ON f.report_id = r.id AND f.test_name = $test_name
WHERE r.workflow_name = $workflow
ORDER BY r.created_at DESC, r.id DESC
LIMIT $limit
