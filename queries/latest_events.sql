-- name: latest_events
-- about: The live feed: new failures, triage decisions and agent tool calls, newest first.
-- reads: error_triage, hooks, projects, reports, sessions, test_failures
-- param: project text = NULL  # only this project
-- param: limit int = 30  # how many events
SELECT * FROM (
    SELECT f.created_at AS event_at, 'failure' AS kind, COALESCE(r.project, r.workflow_name) AS project,
           f.test_name AS what, CAST(f.id AS VARCHAR) AS ref
    FROM test_failures f JOIN reports r ON r.id = f.report_id
    WHERE $project IS NULL OR COALESCE(r.project, r.workflow_name) = $project
    ORDER BY f.created_at DESC, f.id DESC LIMIT $limit
) a
UNION ALL
SELECT * FROM (
    SELECT t.decided_at, 'decision', COALESCE(r.project, r.workflow_name),
           t.decision || ' by ' || t.decided_by || ': ' || f.test_name, CAST(f.id AS VARCHAR)
    FROM error_triage t JOIN test_failures f ON f.id = t.test_failure_id
    JOIN reports r ON r.id = f.report_id
    WHERE t.decided_at IS NOT NULL
      AND ($project IS NULL OR COALESCE(r.project, r.workflow_name) = $project)
    ORDER BY t.decided_at DESC LIMIT $limit
) b
UNION ALL
SELECT * FROM (
    SELECT h.timestamp, 'tool call', p.name, h.tool_name || ' in session ' || s.id,
           CAST(s.id AS VARCHAR)
    FROM hooks h JOIN sessions s ON s.id = h.session_id JOIN projects p ON p.id = s.project_id
    WHERE h.hook_type = 'pre_tool_use' AND ($project IS NULL OR p.name = $project)
    ORDER BY h.timestamp DESC LIMIT $limit
) c
ORDER BY event_at DESC
LIMIT $limit
