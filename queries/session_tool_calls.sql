-- name: session_tool_calls
-- about: Tool calls (post_tool_use events) of one session or all, in the order they ended, for tool counts, the timeline and a session's own list of calls.
-- reads: hooks
-- param: session_id int = NULL  # only this session
-- param: since int = NULL  # from this epoch second
SELECT h.session_id, h.id AS hook_id, h.tool_name, to_timestamp(h.timestamp) AS called_at,
       h.duration_ms, h.success, h.error_message, h.tool_input,
       -- The recorder stamps each event to the millisecond; other producers to the second.
       COALESCE(CASE WHEN json_valid(h.metadata) THEN TRY_CAST(
                    json_extract_string(h.metadata, '$.received_at_ms') AS BIGINT) END,
                h.timestamp * 1000) AS ended_ms
FROM hooks h
WHERE h.hook_type = 'post_tool_use'
  AND ($session_id IS NULL OR h.session_id = $session_id)
  AND ($since IS NULL OR h.timestamp >= $since)
ORDER BY h.timestamp, h.id
