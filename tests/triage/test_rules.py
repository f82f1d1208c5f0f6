"""One test per rule and per conflict between rules; the classifier is a pure function."""

import pytest

from pmdata.triage.rules import Failure, History, Thresholds, classify

PLAIN = Failure("cart › adds an item", "tests/cart.spec.ts", "Error: expected 2, got 1", "")


def h(occurrences, runs=10, consecutive=0, flaky=0, flips=0, source="results"):
    return History(occurrences, runs, consecutive, flaky, flips, source)


def test_persistent():
    s = classify(h(6, consecutive=6), PLAIN)
    assert (s.decision, s.priority, s.confidence) == ("needs_spec", 5, 0.95)
    assert s.classification == "PERSISTENT" and "last 6 runs in a row" in s.rationale


def test_recurring():
    s = classify(h(3, consecutive=1), PLAIN)
    assert (s.decision, s.priority, s.classification) == ("needs_spec", 4, "RECURRING")
    assert "failed 3 times in 10 runs" in s.rationale


def test_flaky_by_retry_pass():
    s = classify(h(2, consecutive=0, flaky=1), PLAIN)
    assert (s.decision, s.priority, s.classification) == ("pending", 3, "FLAKY")
    assert "passed on retry in 1 run" in s.rationale


def test_flaky_by_flips():
    s = classify(h(2, flips=3), PLAIN)
    assert s.classification == "FLAKY" and "flipped between pass and fail 3 times" in s.rationale


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


def test_recurring_beats_flaky_but_loses_confidence():
    s = classify(h(4, flips=4), PLAIN)
    assert s.decision == "needs_spec" and s.rules == ("RECURRING", "FLAKY")
    assert s.confidence == pytest.approx(0.70)


def test_persistent_beats_flaky_broken_beats_flaky():
    s = classify(h(7, consecutive=7, flaky=1), PLAIN)
    assert s.classification == "PERSISTENT" and "FLAKY" in s.rules


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


def test_setup_teardown_makes_recurring_a_harness_fix():
    f = Failure("x", "tests/a.spec.ts", "Error: boom", "at beforeEach (tests/a.spec.ts:3:5)")
    s = classify(h(4, consecutive=2), f)
    assert (s.decision, s.rules) == ("one_off_fix", ("RECURRING", "SETUP_TEARDOWN"))
    assert s.priority == 3


def test_setup_teardown_does_not_override_persistent_but_lowers_confidence():
    f = Failure("x", "tests/a.spec.ts", "Error in global setup", "")
    s = classify(h(6, consecutive=6), f)
    assert s.decision == "needs_spec" and s.confidence == pytest.approx(0.8)


def test_not_implemented_in_a_fixture_still_needs_a_spec():
    f = Failure("x", "a.ts", "fixture 'payments': not implemented", "")
    s = classify(h(1), f)
    assert s.decision == "needs_spec" and {"NOT_IMPLEMENTED", "SETUP_TEARDOWN"} <= set(s.rules)


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


def test_a_person_decision_wins_next_time():
    s = classify(h(6, consecutive=6), PLAIN, prior_decision="ignore")
    assert s.decision == "ignore" and s.rules[0] == "PRIOR_DECISION"


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
    assert s.decision == "needs_spec" and "ENVIRONMENT" not in s.rules


def test_a_product_error_mentioning_no_machine_error_is_left_to_the_history():
    failure = Failure("total", "a.ts", "expect(locator).toHaveText(expected)")
    s = classify(h(6, consecutive=6), failure)
    assert s.decision == "needs_spec" and "ENVIRONMENT" not in s.rules
