-- name: project_names
-- about: Every project the database knows, for the project filter: those of runs with failures (reports.project, else the workflow name) and of agent sessions. A few hundred runs to read, not a million failures.
-- reads: projects, reports, sessions, test_failures
SELECT DISTINCT COALESCE(r.project, r.workflow_name) AS project
FROM reports r
WHERE EXISTS (SELECT 1 FROM test_failures f WHERE f.report_id = r.id)
UNION
SELECT p.name AS project
FROM sessions s
JOIN projects p ON p.id = s.project_id
ORDER BY project
