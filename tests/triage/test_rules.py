"""One test per rule and per conflict between rules; the classifier is a pure function."""

import pytest

from pmdata.triage.rules import Failure, History, Precedent, Thresholds
from pmdata.triage.standings import state
from pmdata.triage.suggestions import classify

PLAIN = Failure("cart › adds an item", "tests/cart.spec.ts", "Error: expected 2, got 1", "")


def h(occurrences, runs=10, consecutive=0, flaky=0, flips=0, source="results", since=0, errors=1):
    return History(occurrences, runs, consecutive, flaky, flips, source, since, errors)


def test_persistent():
    s = classify(h(6, consecutive=6), PLAIN)
    assert (s.decision, s.priority, s.confidence) == ("needs_spec", 5, 0.95)
    assert s.classification == "PERSISTENT" and "last 6 runs in a row" in s.rationale


def test_recurring():
    s = classify(h(3, consecutive=1), PLAIN)
    assert (s.decision, s.priority, s.classification) == ("needs_spec", 4, "RECURRING")
    assert "failed 3 times in 10 runs" in s.rationale


def test_flaky_by_retry_pass_is_a_race_to_fix():
    s = classify(h(2, consecutive=0, flaky=1, since=1), PLAIN)
    assert (s.decision, s.priority, s.classification) == ("one_off_fix", 3, "FLAKY")
    assert "passed on retry in 1 run" in s.rationale and s.state == "Flaky"


def test_a_test_that_only_ever_passed_on_retry_is_flaky_not_new():
    s = classify(h(0, flaky=3, since=1), PLAIN)
    assert (s.decision, s.rules) == ("one_off_fix", ("FLAKY",))


def test_flaky_by_flips():
    s = classify(h(3, flips=4, since=1), PLAIN)
    assert s.classification == "FLAKY" and "flipped between pass and fail 4 times" in s.rationale
    # Two spells of failing are a regression that came back, not a race.
    assert classify(h(6, consecutive=4, flips=2), PLAIN).classification == "RECURRING"


def test_new():
    s = classify(h(1, runs=1, consecutive=1), PLAIN)
    assert (s.decision, s.priority, s.confidence, s.classification) == (
        "one_off_fix",
        2,
        0.6,
        "NEW",
    )


def test_no_rule_is_pending_with_an_honest_rationale():
    s = classify(h(2, consecutive=1), PLAIN)
    assert (s.decision, s.rules) == ("pending", ())
    assert "no clear pattern" in s.rationale


def test_persistent_beats_recurring_and_names_it():
    s = classify(h(9, consecutive=5), PLAIN)
    assert s.rules[:2] == ("PERSISTENT", "RECURRING") and "also RECURRING" in s.rationale
    assert s.confidence == 0.95  # they agree on the decision: no doubt added


def test_flaky_beats_recurring_but_loses_confidence():
    s = classify(h(4, flips=4, since=1), PLAIN)
    assert s.decision == "one_off_fix" and s.rules == ("FLAKY", "RECURRING")
    assert s.confidence == pytest.approx(0.65)


def test_broken_beats_flaky():
    s = classify(h(7, consecutive=7, flaky=1), PLAIN)
    assert s.classification == "PERSISTENT" and "FLAKY" not in s.rules and s.state == "Broken"


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        (h(0), "Healthy"),
        (h(2, consecutive=2), "Broken"),
        (h(6, consecutive=6, flaky=2), "Broken"),  # a long streak is broken whatever before
        (h(2, consecutive=1, flaky=1), "Flaky"),
        (h(1, since=2), "Flaky"),  # passed since, not yet five times
        (h(2, since=5), "Recovered"),
        (h(0, flaky=4, since=5), "Recovered"),
    ],
)
def test_a_tests_state(history, expected):
    assert state(history) == expected


def test_recovered_is_ignored_whatever_its_last_failure_said():
    s = classify(h(2, runs=12, since=10), Failure("x", "a.ts", "Error: not implemented"))
    assert (s.decision, s.priority, s.rules[0], s.state) == ("ignore", 1, "RECOVERED", "Recovered")
    assert "passed the last 10 runs since it last failed" in s.rationale
    once = classify(h(1, runs=30, since=29), PLAIN)
    assert once.decision == "ignore"
    # A weekly suite: two passing runs since a failure three months ago.
    quiet = classify(History(1, 14, 0, passes_since=2, quiet_days=90), PLAIN)
    assert quiet.decision == "ignore" and "since it last failed, 90 days ago" in quiet.rationale
    assert classify(History(1, 14, 0, passes_since=2, quiet_days=3), PLAIN).state == "Flaky"


def test_a_recovering_test_says_so_and_is_less_sure():
    s = classify(h(6, since=2), PLAIN)
    assert s.decision == "needs_spec" and "it passed the last 2 runs" in s.rationale
    assert s.confidence == pytest.approx(0.70)


def test_a_different_error_every_run_is_for_a_person_to_look_at():
    s = classify(h(4, consecutive=4, errors=4), PLAIN)
    assert (s.decision, s.rules[0]) == ("pending", "VARIED")
    assert "4 different errors in 4 failures" in s.rationale
    assert classify(h(4, consecutive=4, errors=2), PLAIN).decision == "needs_spec"


def test_not_implemented_turns_a_new_failure_into_a_spec():
    f = Failure(
        "pay", "smoke/health.spec.ts", "Error: NotImplementedError: feature not implemented"
    )
    s = classify(h(1, consecutive=1), f)
    assert (s.decision, s.priority) == ("needs_spec", 4) and "NOT_IMPLEMENTED" in s.rules
    assert s.confidence == 0.9


@pytest.mark.parametrize("message", ["Not supported on this browser", "not yet implemented"])
def test_not_implemented_wording(message):
    assert "NOT_IMPLEMENTED" in classify(h(1), Failure("x", "a.ts", message)).rules


def test_a_failure_in_a_hook_is_a_harness_fix_even_when_persistent():
    f = Failure("x", "tests/a.spec.ts", "Error: boom", failed_in="hook")
    s = classify(h(4, consecutive=2), f)
    assert (s.decision, s.rules) == ("one_off_fix", ("HARNESS", "RECURRING"))
    assert s.priority == 3 and "a hook or fixture declared above the test" in s.rationale
    persistent = classify(h(6, consecutive=6), Failure("x", "a.ts", "Error in global setup"))
    assert persistent.decision == "one_off_fix" and persistent.rules[0] == "HARNESS"


@pytest.mark.parametrize(
    "failure",
    [
        # The product's words in a path: a football league's fixtures, a setup wizard.
        Failure("league › lists fixtures", "tests/league/fixtures.spec.ts", "Error: expected 10"),
        Failure("wizard", "onboarding/setup.spec.ts", "Error: x", "at /ci/tests/fixtures/a.ts:3:5"),
        Failure("x", "a.ts", "Error: boom", "at beforeEach (a.ts:3:5)", failed_in="test"),
    ],
)
def test_words_in_a_path_or_stack_do_not_make_a_harness_failure(failure):
    s = classify(h(6, consecutive=6), failure)
    assert s.decision == "needs_spec" and "HARNESS" not in s.rules


def test_not_implemented_in_a_fixture_still_needs_a_spec():
    f = Failure("x", "a.ts", "fixture 'payments': not implemented", failed_in="fixture")
    s = classify(h(1), f)
    assert s.decision == "needs_spec" and s.rules[:2] == ("NOT_IMPLEMENTED", "HARNESS")


@pytest.mark.parametrize(
    "error",
    [
        # A stub's HTTP answer quoted in what the test received, not the error's own words.
        'Error: expect(received).toBe(expected)\n\nExpected: "Avatar saved"\n'
        'Received: "Upload failed: 501 Not Implemented"',
        "Error: request failed: 501 Not Implemented",
    ],
)
def test_not_implemented_counts_only_in_the_errors_own_headline(error):
    s = classify(h(1), Failure("avatar", "a.ts", error))
    assert "NOT_IMPLEMENTED" not in s.rules and s.decision == "one_off_fix"


@pytest.mark.parametrize(
    ("failure", "words"),
    [
        (
            Failure(
                "buy",
                "a.ts",
                "Error: locator.click: Error: strict mode violation: "
                "locator('button') resolved to 2 elements:",
            ),
            "strict-mode violation",
        ),
        (
            Failure("banner", "a.ts", "Error: expect(string).toMatchSnapshot(expected) failed"),
            "snapshot",
        ),
        (
            Failure(
                "round",
                "a.ts",
                "Expected to fail, but passed: the marker outlived its bug",
                final_status="passed",
            ),
            "test.fail()",
        ),
        (
            Failure(
                "save",
                "a.ts",
                "Error: expect(received).toBe(expected)",
                snippet="  25 |     await page.locator('#save').click();\n"
                "  26 |     await page.waitForTimeout(100);\n"
                "> 27 |     expect(await page.locator('#status').textContent()).toBe('Saved');\n"
                "     |                                                       ^",
            ),
            "fixed sleep",
        ),
    ],
)
def test_a_bug_in_the_test_is_a_one_off_fix_even_when_persistent(failure, words):
    s = classify(h(7, consecutive=7), failure)
    assert (s.decision, s.rules[0]) == ("one_off_fix", "TEST_BUG") and words in s.rationale


def test_e2e_path_raises_priority_and_settles_the_undecided_case():
    f = Failure("x", "tests/e2e/cart.spec.ts", "Error: expected 2, got 1")
    assert classify(h(3), f).priority == 5  # RECURRING 4, +1
    undecided = classify(h(2, consecutive=1), f)
    assert (undecided.decision, undecided.rules) == ("needs_spec", ("E2E_PATH",))
    new = classify(h(1), f)  # e2e only nudges a NEW failure
    assert new.decision == "one_off_fix" and new.priority == 3


def test_integration_counts_as_e2e_but_not_inside_a_word():
    assert "E2E_PATH" in classify(h(1), Failure("x", "tests/integration/a.ts")).rules
    assert "E2E_PATH" not in classify(h(1), Failure("x", "tests/reintegrationist.ts")).rules


def test_a_person_decision_wins_next_time_and_is_cited():
    prior = Precedent("ignore", "ana", 1795000000, "upstream outage, not ours.")
    s = classify(h(6, consecutive=6), PLAIN, prior=prior)
    assert s.decision == "ignore" and s.rules[0] == "PRIOR_DECISION"
    assert s.rationale.startswith(
        "PRIOR_DECISION: ignore, as decided by ana on 2026-11-18: upstream outage, not ours;"
    )
    assert classify(h(1), PLAIN, prior="needs_spec").decision == "needs_spec"


def test_thresholds_are_settings():
    strict = Thresholds(persistent_after=3, recurring_after=10, flaky_flips=5)
    assert classify(h(3, consecutive=3), PLAIN, strict).classification == "PERSISTENT"
    assert classify(h(4, consecutive=1, flips=4), PLAIN, strict).rules == ()


def test_derived_runs_are_said_in_the_rationale():
    s = classify(h(3, source="reports"), PLAIN)
    assert "derived from the workflow's reports" in s.rationale


def test_every_rule_that_fired_is_named_in_one_sentence():
    f = Failure("x", "tests/e2e/a.ts", "not implemented", "at afterAll (x)")
    s = classify(h(6, consecutive=6, flips=2), f)
    for rule in s.rules:
        assert rule in s.rationale
    assert s.rationale.count(".") >= 1 and s.rationale.endswith(".")
    assert "\n" not in s.rationale


@pytest.mark.parametrize(
    "error",
    [
        "Error: connect ECONNREFUSED 127.0.0.1:5432",  # a database not listening, in beforeEach
        "Error: getaddrinfo ENOTFOUND api.internal",
        "Error: listen EADDRINUSE: address already in use :::3000",
        "Error: Connection is closed.",
        "Error: ENOENT: no such file or directory, open 'fixtures/users.json'",
        "page.goto: net::ERR_CONNECTION_REFUSED at http://localhost:3000/",
    ],
)
def test_the_machine_failing_is_a_one_off_fix_whatever_the_history(error):
    """Flaky, recurring or persistent: a person fixes the environment or the harness once; the
    rationale names the machine's error."""
    for history in (h(3, flaky=1), h(4), h(6, consecutive=6)):
        s = classify(history, Failure("checkout", "tests/checkout.spec.ts", error))
        assert s.decision == "one_off_fix" and "ENVIRONMENT" in s.rules, (error, history)
        assert "ENVIRONMENT: the error is " in s.rationale


def test_the_machine_failing_does_not_hide_a_missing_feature():
    s = classify(h(1), Failure("pay", "a.ts", "Error: ECONNREFUSED: payments not implemented yet"))
    assert s.decision == "needs_spec" and s.rules[:2] == ("NOT_IMPLEMENTED", "ENVIRONMENT")


def test_a_product_error_mentioning_no_machine_error_is_left_to_the_history():
    failure = Failure("total", "a.ts", "expect(locator).toHaveText(expected)")
    s = classify(h(6, consecutive=6), failure)
    assert s.decision == "needs_spec" and "ENVIRONMENT" not in s.rules
