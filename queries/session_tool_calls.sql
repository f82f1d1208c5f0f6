-- name: session_tool_calls
-- about: Tool calls (post_tool_use events) of one session or all, for tool counts and the timeline chart.
-- param: session_id int = NULL  # only this session
-- param: since int = NULL  # from this epoch second
SELECT h.session_id, h.tool_name, to_timestamp(h.timestamp) AS called_at, h.duration_ms,
       h.success, h.error_message, h.tool_input
FROM hooks h
WHERE h.hook_type = 'post_tool_use'
  AND ($session_id IS NULL OR h.session_id = $session_id)
  AND ($since IS NULL OR h.timestamp >= $since)
ORDER BY h.timestamp
