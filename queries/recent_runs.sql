-- name: recent_runs
-- about: The latest Playwright runs, newest first, with their counts.
-- reads: reports
-- param: workflow text = NULL  # only this workflow
-- param: limit int = 20  # how many runs
SELECT r.id, r.workflow_name, r.run_number, r.status, r.total_tests, r.passed, r.failed,
       r.skipped, r.flaky, r.project, to_timestamp(r.created_at) AS created_at
FROM reports r
WHERE $workflow IS NULL OR r.workflow_name = $workflow
ORDER BY r.created_at DESC, r.id DESC
LIMIT $limit
