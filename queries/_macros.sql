-- Expressions several queries share, defined once: the runner creates them on every
-- connection before a query runs (a file whose name starts with _ is not a query).

-- A failure's history class as the classifier named it in its triage row's suggested_rules
-- (pmdata.triage.rules.CLASSES, strongest first); UNTRIAGED when it has no triage row.
CREATE OR REPLACE TEMP MACRO history_class(rules, triaged) AS
    CASE WHEN rules LIKE '%RECOVERED%' THEN 'RECOVERED'
         WHEN rules LIKE '%PERSISTENT%' THEN 'PERSISTENT'
         WHEN rules LIKE '%RECURRING%' THEN 'RECURRING'
         WHEN rules LIKE '%FLAKY%' THEN 'FLAKY'
         WHEN rules LIKE '%NEW%' THEN 'NEW'
         WHEN NOT triaged THEN 'UNTRIAGED'
         ELSE 'OTHER' END;

-- A session's last activity: its latest hook event or the time recorded on the session,
-- whichever is later (GREATEST skips NULLs); its start when it has neither.
CREATE OR REPLACE TEMP MACRO last_activity(last_event, recorded, started) AS
    greatest(last_event, recorded, started);
