-- name: database_summary
-- about: How much the database holds: projects, runs, failures, sessions, hook events, triage.
-- reads: error_triage, hooks, projects, reports, sessions, test_failures
SELECT (SELECT count(*) FROM projects) AS projects,
       (SELECT count(*) FROM reports) AS runs,
       (SELECT count(*) FROM test_failures) AS failures,
       (SELECT count(*) FROM sessions) AS sessions,
       (SELECT count(*) FROM sessions WHERE status = 'running') AS running_sessions,
       (SELECT count(*) FROM hooks) AS hook_events,
       (SELECT count(*) FROM error_triage) AS triaged,
       (SELECT to_timestamp(max(created_at)) FROM reports) AS latest_run
