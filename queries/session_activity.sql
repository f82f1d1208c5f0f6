-- name: session_activity
-- about: Every session with its state inputs: last event, current tool (of the latest event, by id: events share seconds), tool calls, success rate, mean tool duration, work item.
-- reads: hooks, projects, sessions
-- param: project text = NULL  # only this project
SELECT s.id, s.agent_id, p.name AS project, s.status, s.session_type, s.work_item,
       s.started_at, s.stopped_at,
       last_activity(max(h.timestamp), s.last_activity_at, s.started_at) AS last_event_at,
       arg_max(h.tool_name, h.id) FILTER (WHERE h.hook_type = 'pre_tool_use') AS last_tool,
       arg_max(h.hook_type, h.id) AS last_hook,
       count(*) FILTER (WHERE h.hook_type = 'pre_tool_use') AS tool_calls,
       avg(h.success) FILTER (WHERE h.hook_type = 'post_tool_use') AS success_rate,
       avg(h.duration_ms) FILTER (WHERE h.hook_type = 'post_tool_use') AS avg_duration_ms
FROM sessions s
JOIN projects p ON p.id = s.project_id
LEFT JOIN hooks h ON h.session_id = s.id
WHERE $project IS NULL OR p.name = $project
GROUP BY s.id, s.agent_id, p.name, s.status, s.session_type, s.work_item, s.started_at,
         s.stopped_at, s.last_activity_at
ORDER BY last_event_at DESC
