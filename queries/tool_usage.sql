-- name: tool_usage
-- about: Tool calls by tool across all sessions: count, success rate and mean duration.
-- reads: hooks
-- param: days int = 30  # window, counted back from now
SELECT h.tool_name,
       count(*) AS calls,
       avg(h.success) AS success_rate,
       avg(h.duration_ms) AS avg_duration_ms
FROM hooks h
WHERE h.hook_type = 'post_tool_use' AND h.tool_name IS NOT NULL
  AND h.timestamp >= epoch(now()) - $days * CAST(86400 AS BIGINT)
GROUP BY h.tool_name
ORDER BY calls DESC
