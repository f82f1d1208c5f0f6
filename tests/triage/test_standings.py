"""The rules work column-wise, for all of a batch's tests at once (pmdata.triage.standings); one
failure is the one-row case. A row must come out as it would alone, whatever the other rows."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmdata.triage.facts import Facts
from pmdata.triage.rules import Precedent, Thresholds, failure_rules
from pmdata.triage.standings import NAMED_AFTER_FIRST, Histories, standings, state, states
from pmdata.triage.suggestions import decide, suggest_pairs
from tests.triage.test_batch import history as batch_history

# The batch tests' histories, with any number of different errors (a batch counts those itself).
history = st.tuples(batch_history, st.integers(1, 12)).map(
    lambda pair: pair[0]._replace(distinct_errors=pair[1])
)
facts = st.builds(
    Facts,
    st.booleans(),
    st.sampled_from(["", "ECONNREFUSED"]),
    st.sampled_from(["", "a strict-mode violation: 2 elements"]),
    st.sampled_from(["", "hook", "fixture", "setup"]),
)
prior = st.one_of(
    st.none(),
    st.sampled_from(
        [Precedent("ignore", "ana", 1764460800, "the lab's proxy."), Precedent("someday")]
    ),
)
thresholds = st.sampled_from([Thresholds(), Thresholds(3, 2, 2, 2, 7, 2)])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tests=st.lists(st.tuples(history, st.booleans()), min_size=1, max_size=30),
    failures=st.lists(facts, min_size=1, max_size=10),
    priors=st.lists(prior, max_size=3),
    picks=st.lists(st.tuples(*[st.integers(0, 99)] * 3), min_size=1, max_size=60),
    thresholds=thresholds,
)
def test_each_suggestion_of_a_batch_is_the_one_its_failure_gets_alone(
    tests, failures, priors, picks, thresholds
):
    """Pairs of any test with any failure and any precedent (or none), in any order."""
    priors = [None, *priors]
    test, failure, precedent = (
        np.array([pick[i] % len(each) for pick in picks])
        for i, each in enumerate((tests, failures, priors))
    )
    batch = suggest_pairs(
        standings(
            Histories.of([h for h, _ in tests]), np.array([e2e for _, e2e in tests]), thresholds
        ),
        [failure_rules(f) for f in failures],
        priors,
        test,
        failure,
        precedent,
    ).rows()
    alone = [
        decide(tests[t][0], failures[f], tests[t][1], thresholds, priors[p])
        for t, f, p in zip(test.tolist(), failure.tolist(), precedent.tolist(), strict=True)
    ]
    assert batch == alone


@given(histories=st.lists(history, max_size=30), thresholds=thresholds)
def test_a_batch_of_states_is_each_test_state(histories, thresholds):
    together = states(Histories.of(histories), thresholds).tolist()
    assert together == [state(h, thresholds) for h in histories]


def test_an_empty_batch_has_no_standing():
    tests = standings(Histories.of([]), np.array([], dtype=bool))
    empty = np.array([], dtype=np.int64)
    assert suggest_pairs(tests, [], [None], empty, empty, empty).rows() == []


def test_a_failure_names_its_rules_in_the_order_a_suggestion_names_them():
    """A batch names the rules after the deciding one by NAMED_AFTER_FIRST's order: it must be
    failure_rules' own, or a batch would name them otherwise than the rules fired."""
    names = [
        [rule.name for rule in failure_rules(Facts(n, e, b, h))]
        for n in (False, True)
        for e in ("", "ECONNREFUSED")
        for b in ("", "a drifted snapshot")
        for h in ("", "hook")
    ]
    assert ["NOT_IMPLEMENTED", "ENVIRONMENT", "TEST_BUG", "HARNESS"] in names
    for fired in names:
        assert fired == sorted(fired, key=NAMED_AFTER_FIRST.index)
