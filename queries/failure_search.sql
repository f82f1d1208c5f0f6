-- name: failure_search
-- about: Failing tests whose error messages or stack traces hold a text, in any case (the Errors page's search reads them as well as titles).
-- reads: reports, test_failures
-- param: q text = ''  # the text
-- param: project text = NULL  # only this project
-- param: since int = NULL  # failures at or after this epoch second
-- param: until int = NULL  # failures before this epoch second
SELECT DISTINCT r.workflow_name, f.test_name
FROM test_failures f
JOIN reports r ON r.id = f.report_id
WHERE ($project IS NULL OR COALESCE(r.project, r.workflow_name) = $project)
  AND ($since IS NULL OR f.created_at >= $since)
  AND ($until IS NULL OR f.created_at < $until)
  AND (strpos(lower(COALESCE(f.error, '')), lower($q)) > 0
       OR strpos(lower(COALESCE(f.stack_trace, '')), lower($q)) > 0)
