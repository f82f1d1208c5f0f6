-- name: session_summaries
-- about: What each session did, from all its hooks: tool calls, successes, failures, the tools it used and the files it touched (file_path, path or notebook_path in tool inputs).
-- reads: hooks, projects, sessions
-- param: project text = NULL  # only this project
WITH calls AS (
    SELECT h.session_id, h.tool_name, h.success,
           CASE WHEN json_valid(h.tool_input) THEN coalesce(
               json_extract_string(h.tool_input, '$.file_path'),
               json_extract_string(h.tool_input, '$.path'),
               json_extract_string(h.tool_input, '$.notebook_path')) END AS file
    FROM hooks h
    JOIN sessions s ON s.id = h.session_id
    JOIN projects p ON p.id = s.project_id
    WHERE h.hook_type = 'post_tool_use' AND ($project IS NULL OR p.name = $project)
),
per_tool AS (
    SELECT session_id, tool_name, count(*) AS n FROM calls GROUP BY session_id, tool_name
)
SELECT c.session_id, count(*) AS calls,
       count(*) FILTER (WHERE c.success = 1) AS succeeded,
       count(*) FILTER (WHERE c.success = 0) AS failed,
       (SELECT string_agg(t.tool_name || '×' || t.n, ', ' ORDER BY t.n DESC, t.tool_name)
        FROM per_tool t WHERE t.session_id = c.session_id) AS tools,
       list_sort(list(DISTINCT c.file) FILTER (WHERE c.file IS NOT NULL AND c.file <> '')) AS files
FROM calls c
GROUP BY c.session_id
