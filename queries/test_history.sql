-- name: test_history
-- about: Per failing test (workflow + file + title): first and last failure, occurrences, runs, failure rate, consecutive failures up to the latest run, flaky runs, pass/fail flips, runs since it last failed and the error fingerprints it failed with. From per-run outcomes (test_results) where ingest wrote them, else derived from the workflow's reports (source = 'reports').
-- reads: error_triage, failure_history, reports, test_failures, test_results
-- param: workflow text = NULL  # only this workflow
-- param: test_name text = NULL  # only this test title
-- Portable SQL: the benchmark runs this same text in SQLite's engine to compare.
WITH runs AS (
    SELECT id AS report_id, workflow_name, created_at,
           ROW_NUMBER() OVER (PARTITION BY workflow_name ORDER BY created_at DESC, id DESC) AS rn
    FROM reports
    WHERE ($workflow IS NULL OR workflow_name = $workflow)
),
latest_runs AS (
    SELECT workflow_name, MAX(created_at) AS latest_at FROM runs GROUP BY workflow_name
),
-- Every row of test_failures: failed runs, and first attempts that failed before a retry
-- passed (outcome 'flaky', counted as flaky runs, not as failures).
failures AS (
    SELECT r.workflow_name, COALESCE(f.test_file, '') AS test_file, f.test_name,
           f.id, f.created_at, r.rn,
           CASE WHEN COALESCE(f.outcome, 'failed') = 'flaky' THEN 0 ELSE 1 END AS failed,
           t.fingerprint
    FROM test_failures f
    JOIN runs r ON r.report_id = f.report_id
    LEFT JOIN error_triage t ON t.test_failure_id = f.id
    WHERE ($test_name IS NULL OR f.test_name = $test_name)
),
fail_stats AS (
    SELECT workflow_name, test_file, test_name,
           MIN(created_at) AS first_seen,
           MAX(created_at) AS last_seen,
           SUM(failed) AS occurrences,
           COUNT(*) - SUM(failed) AS flaky_rows,
           MAX(rn) AS first_rn,
           MIN(rn) AS last_rn,
           MAX(id) AS last_failure_id,
           group_concat(DISTINCT fingerprint) AS fingerprints
    FROM failures
    GROUP BY workflow_name, test_file, test_name
),
-- Failed runs by rank (1 = latest run of the workflow). Islands of consecutive failed runs,
-- found with one anti-join instead of a window: a run is an island's older edge when the run
-- before it did not fail. Each island has one older and one newer edge, so from the older
-- edges alone come the streak up to the latest run and the pass/fail flips (a test that ran
-- in every run, as Playwright suites do, flips at each edge but the newest run's). A test is
-- keyed here by its latest failure's id: a million rows joined on one integer, not three
-- strings.
failed_runs AS (
    SELECT DISTINCT s.last_failure_id AS test_key, f.rn
    FROM failures f
    JOIN fail_stats s
      ON s.workflow_name = f.workflow_name AND s.test_file = f.test_file
     AND s.test_name = f.test_name
    WHERE f.failed = 1
),
edges AS (
    SELECT a.test_key, a.rn, CASE WHEN older.rn IS NULL THEN 1 ELSE 0 END AS older_edge
    FROM failed_runs a
    LEFT JOIN failed_runs older ON older.test_key = a.test_key AND older.rn = a.rn + 1
),
derived AS (
    SELECT test_key,
           CASE WHEN MIN(rn) = 1 THEN MIN(CASE WHEN older_edge = 1 THEN rn END) ELSE 0 END
             AS consecutive,
           2 * SUM(older_edge) - MAX(CASE WHEN rn = 1 THEN 1 ELSE 0 END) - 1 AS flips
    FROM edges
    GROUP BY test_key
),
-- Results path: every run the test took part in (skips left out). Plain aggregates, no window
-- over the (large) results table: consecutive failures are the failed runs newer than the
-- newest run that did not fail.
result_stats AS (
    SELECT r.workflow_name, COALESCE(t.test_file, '') AS test_file, t.test_name,
           COUNT(*) AS runs,
           SUM(CASE WHEN t.outcome = 'failed' THEN 1 ELSE 0 END) AS failed_runs,
           SUM(CASE WHEN t.outcome = 'flaky' THEN 1 ELSE 0 END) AS flaky_runs,
           MIN(CASE WHEN t.outcome <> 'failed' THEN r.rn END) AS newest_ok_rn,
           MIN(CASE WHEN t.outcome IN ('failed', 'flaky') THEN r.rn END) AS newest_bad_rn
    FROM test_results t
    JOIN runs r ON r.report_id = t.report_id
    WHERE t.outcome <> 'skipped'
      AND ($test_name IS NULL OR t.test_name = $test_name)
    GROUP BY r.workflow_name, COALESCE(t.test_file, ''), t.test_name
),
-- Each test's newest run that did not fail, keyed like failed_runs, so the streak is counted
-- over integers.
newest_ok AS (
    SELECT s.last_failure_id AS test_key, rs.newest_ok_rn
    FROM fail_stats s
    JOIN result_stats rs
      ON rs.workflow_name = s.workflow_name AND rs.test_file = s.test_file
     AND rs.test_name = s.test_name
),
streaks AS (
    SELECT f.test_key, COUNT(*) AS consecutive
    FROM failed_runs f
    JOIN newest_ok n ON n.test_key = f.test_key
    WHERE n.newest_ok_rn IS NULL OR f.rn < n.newest_ok_rn
    GROUP BY f.test_key
)
SELECT s.workflow_name, s.test_file, s.test_name,
       CASE WHEN rs.runs IS NULL THEN 'reports' ELSE 'results' END AS source,
       s.first_seen, s.last_seen, s.occurrences,
       COALESCE(rs.runs, s.first_rn) AS runs,
       CAST(COALESCE(rs.failed_runs, s.occurrences) AS DOUBLE)
         / COALESCE(rs.runs, s.first_rn) AS failure_rate,
       CASE WHEN rs.runs IS NULL THEN COALESCE(d.consecutive, 0)
            ELSE COALESCE(st.consecutive, 0) END AS consecutive_failures,
       COALESCE(rs.flaky_runs, s.flaky_rows) AS flaky_runs,
       COALESCE(d.flips, 0) AS flips,
       -- Runs of the workflow since the test last failed or passed only on retry.
       COALESCE(rs.newest_bad_rn, s.last_rn) - 1 AS passes_since,
       -- Whole days from its last failure to its workflow's latest run.
       CAST(((lr.latest_at - s.last_seen) - (lr.latest_at - s.last_seen) % 86400) / 86400
            AS INTEGER) AS quiet_days,
       s.fingerprints,
       s.last_failure_id,
       lf.error AS last_error,
       fh.classification_type AS homelab_classification,
       fh.consecutive_failures AS homelab_consecutive
FROM fail_stats s
LEFT JOIN derived d ON d.test_key = s.last_failure_id
JOIN latest_runs lr ON lr.workflow_name = s.workflow_name
LEFT JOIN result_stats rs
  ON rs.workflow_name = s.workflow_name AND rs.test_file = s.test_file
 AND rs.test_name = s.test_name
LEFT JOIN streaks st ON st.test_key = s.last_failure_id
LEFT JOIN test_failures lf ON lf.id = s.last_failure_id
LEFT JOIN failure_history fh ON fh.test_name = s.test_name
ORDER BY s.last_seen DESC, s.workflow_name, s.test_file, s.test_name
