-- name: sessions_overview
-- about: Agent sessions with their project, type, work item and hook activity, latest first.
-- reads: hooks, projects, sessions
-- param: status text = NULL  # running, stopped or error
-- param: limit int = 100  # how many sessions
SELECT s.id, s.agent_id, p.name AS project, s.status, s.session_type, s.work_item,
       to_timestamp(s.started_at) AS started_at,
       to_timestamp(s.stopped_at) AS stopped_at,
       to_timestamp(last_activity(max(h.timestamp), s.last_activity_at, s.started_at)) AS last_activity_at,
       count(h.id) AS events,
       count(h.id) FILTER (WHERE h.hook_type = 'pre_tool_use') AS tool_calls,
       avg(h.success) FILTER (WHERE h.hook_type = 'post_tool_use') AS success_rate
FROM sessions s
JOIN projects p ON p.id = s.project_id
LEFT JOIN hooks h ON h.session_id = s.id
WHERE $status IS NULL OR s.status = $status
GROUP BY s.id, s.agent_id, p.name, s.status, s.session_type, s.work_item,
         s.started_at, s.stopped_at, s.last_activity_at
ORDER BY last_activity_at DESC NULLS LAST, s.id DESC
LIMIT $limit
