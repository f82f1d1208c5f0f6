-- name: flaky_tests
-- about: Tests that passed on retry (Playwright's flaky outcome), most often first, with their flaky rate.
-- reads: reports, test_results
-- param: project text = NULL  # only this project
-- param: since int = NULL  # from this epoch second
-- param: until int = NULL  # before this epoch second
SELECT COALESCE(r.project, r.workflow_name) AS project, tr.test_name,
       count(*) FILTER (WHERE tr.outcome = 'flaky') AS flaky_runs,
       count(*) FILTER (WHERE tr.outcome <> 'skipped') AS runs,
       count(*) FILTER (WHERE tr.outcome = 'flaky') * 1.0
         / greatest(count(*) FILTER (WHERE tr.outcome <> 'skipped'), 1) AS flaky_rate
FROM test_results tr
JOIN reports r ON r.id = tr.report_id
WHERE ($project IS NULL OR COALESCE(r.project, r.workflow_name) = $project)
  AND ($since IS NULL OR tr.created_at >= $since)
  AND ($until IS NULL OR tr.created_at < $until)
GROUP BY ALL
HAVING count(*) FILTER (WHERE tr.outcome = 'flaky') > 0
ORDER BY flaky_runs DESC, flaky_rate DESC
LIMIT 50
