-- name: agent_usage_daily
-- about: What agent sessions cost, per session and day (UTC), from Claude Code's OpenTelemetry export: USD, tokens by kind, API requests and errors, with the session's project and work item. A session's events count; its metrics only when it sent none, a cumulative series by its last total.
-- reads: agent_usage, projects, sessions
-- param: project text = NULL  # only this project
-- param: since int = NULL  # from this time (epoch seconds)
-- param: until int = NULL  # before this time (epoch seconds)
-- times: first_at, last_at
WITH with_events AS (
    SELECT DISTINCT agent_id FROM agent_usage WHERE source = 'event'
),
-- A metric series (one kind, model and start) repeats its running total when it is cumulative
-- and reports each step when it is delta: its largest value is its total either way.
series AS (
    SELECT agent_id, max("at") AS "at", max(cost_usd) AS cost_usd,
           max(input_tokens) AS input_tokens, max(output_tokens) AS output_tokens,
           max(cache_read_tokens) AS cache_read_tokens,
           max(cache_creation_tokens) AS cache_creation_tokens,
           0 AS api_request, 0 AS api_error
    FROM agent_usage
    WHERE source = 'metric' AND agent_id NOT IN (SELECT agent_id FROM with_events)
    GROUP BY agent_id, kind, model, series_start
),
usage AS (
    SELECT agent_id, "at", cost_usd, input_tokens, output_tokens, cache_read_tokens,
           cache_creation_tokens,
           CAST(kind = 'api_request' AS INTEGER) AS api_request,
           CAST(kind = 'api_error' AS INTEGER) AS api_error
    FROM agent_usage
    WHERE source = 'event'
    UNION ALL
    SELECT * FROM series
)
SELECT u.agent_id, s.id AS session_id, p.name AS project, s.work_item,
       DATE '1970-01-01' + CAST(u."at" // 86400 AS INTEGER) AS day,
       coalesce(sum(u.cost_usd), 0) AS cost_usd,
       coalesce(sum(u.input_tokens), 0) AS input_tokens,
       coalesce(sum(u.output_tokens), 0) AS output_tokens,
       coalesce(sum(u.cache_read_tokens), 0) AS cache_read_tokens,
       coalesce(sum(u.cache_creation_tokens), 0) AS cache_creation_tokens,
       sum(u.api_request) AS api_requests, sum(u.api_error) AS api_errors,
       min(u."at") AS first_at, max(u."at") AS last_at
FROM usage u
LEFT JOIN sessions s ON s.agent_id = u.agent_id
LEFT JOIN projects p ON p.id = s.project_id
WHERE ($project IS NULL OR p.name = $project)
  AND ($since IS NULL OR u."at" >= $since)
  AND ($until IS NULL OR u."at" < $until)
GROUP BY u.agent_id, s.id, p.name, s.work_item, day
ORDER BY last_at DESC
