"""A batch classifies each failure as the rules classify it alone, whatever the batch holds.

`classify_rows` works per distinct message, place, test and set of facts (pmdata.triage.columns),
and normalises all of a batch's messages in one pass of each pattern over their lines joined.
These tests hold it to the one-failure path (`classify`, `fingerprint`) on generated batches full
of the shapes the rules and the normaliser look for, NULLs and non-text values included.
"""

import gc
import re

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmdata.triage import batch as batches
from pmdata.triage.batch import classify_rows
from pmdata.triage.fingerprint import code_place, fingerprint, machine_target, normalise_many
from pmdata.triage.rules import Failure, History, Precedent, Thresholds
from pmdata.triage.suggestions import classify

# Pieces of real messages: times, ids, hosts, paths, durations, quotes, hooks, machine errors,
# code frames with a sleep, Playwright's locator line, ANSI colours and odd line breaks.
PIECES = [
    "Error: ",
    "expect(locator).toHaveText(expected) failed",
    "\nLocator:  ",
    "getByTestId('total')",
    "2026-11-24T12:00:01Z",
    "12:00:01.5",
    "3f2a9c1e-1111-4222-8333-444455556666",
    "0xDEADbeef",
    "deadbeef12",
    "acceptable",
    "20261124",
    "localhost:3000",
    "127.0.0.1:5432",
    "0.0.0.0:80",
    "/tmp/run-7/x.png",
    "/var/folders/a b",
    "at a.ts:12:7",
    "350ms",
    "2 s",
    "1.5sec",
    "#42",
    "'x'",
    '"y"',
    "`z`",
    " 7 ",
    "é5",
    "٣",
    "\t",
    "\x1f",
    "\r",
    "\u2028",
    "\n",
    "\x1b[31m",
    "\x1b[39m",
    "ECONNREFUSED 127.0.0.1:5432",
    "getaddrinfo ENOTFOUND db",
    "net::ERR_NAME_NOT_RESOLVED at http://h/x",
    "NotImplementedError",
    "not implemented",
    "501 Not Implemented",
    "strict mode violation",
    "toHaveScreenshot",
    "expected to fail, but passed",
    "beforeEach",
    "global setup",
    '"before all" hook',
    "Connection is closed",
]
FRAME = "  12 |   await page.waitForTimeout(500);\n> 13 |   await expect(x).toBe(1);\n"
text = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=4)), max_size=8).map("".join)
maybe = st.one_of(st.none(), st.just(""), text)
TESTS = [("ci", "e2e/cart.spec.ts", "cart › pays"), ("ci", "", "a › b"), ("nightly", "x.ts", "c")]
row = st.fixed_dictionaries(
    {
        "test": st.integers(0, len(TESTS) - 1),
        # The queries give every failure a project (COALESCE with the workflow).
        "project": st.sampled_from(["shop", "blog"]),
        "error": maybe,
        "stack_trace": st.one_of(maybe, st.just("    at f (/home/u/shop/tests/cart.spec.ts:31:9)")),
        "error_location": st.one_of(
            st.none(), st.just(""), st.sampled_from(["a.ts:3:1", "b/c.ts:9"])
        ),
        "error_snippet": st.one_of(maybe, st.just(FRAME)),
        "failed_in": st.sampled_from([None, "", "test", "hook", "fixture", "setup"]),
        "final_status": st.sampled_from([None, "", "failed", "passed", "timedOut"]),
    }
)
history = st.builds(
    History,
    st.integers(0, 9),
    st.integers(0, 15),
    st.integers(0, 9),
    st.integers(0, 3),
    st.integers(0, 6),
    st.sampled_from(["results", "reports"]),
    st.integers(0, 7),
    st.just(1),
    st.sampled_from([0, 20]),
)


def one_by_one(frame, known, prior, thresholds):
    """What the one-failure path makes of each row: fingerprint and suggestion."""
    keys = list(zip(frame.workflow_name, frame.test_file, frame.test_name, strict=True))
    text = [
        {c: v if isinstance(v, str) else "" for c, v in r.items()} for r in frame.to_dict("records")
    ]
    prints = []
    for r in text:
        location = r["error_location"] or None
        target = "" if location else machine_target(r["error"])
        place = code_place(location, r["error_snippet"] or None, r["stack_trace"] or None, target)
        prints.append(fingerprint(r["error"], place))
    first = batches.TestHistory(History(1, 1, 1))
    out = []
    for key, r, print_ in zip(keys, text, prints, strict=True):
        record = known.get(key, first)
        seen = record.fingerprints | {p for k, p in zip(keys, prints, strict=True) if k == key}
        failure = Failure(
            key[2],
            key[1],
            r["error"],
            r["stack_trace"],
            r["error_snippet"],
            r["failed_in"],
            r["final_status"],
        )
        history = record.history._replace(distinct_errors=max(len(seen), 1))
        precedent = prior.get((r["project"], print_))
        out.append((print_, classify(history, failure, thresholds, precedent)))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(row, min_size=1, max_size=25),
    histories=st.dictionaries(st.integers(0, len(TESTS) - 1), history),
    stored=st.lists(st.integers(0, 24), max_size=4),
    decided=st.lists(st.integers(0, 24), max_size=4),
    thresholds=st.sampled_from([Thresholds(), Thresholds(3, 2, 2, 2, 7, 2)]),
)
def test_a_batch_gives_each_failure_what_it_gets_alone(
    rows, histories, stored, decided, thresholds
):
    frame = pd.DataFrame(
        [
            {
                "failure_id": i,
                "workflow_name": TESTS[r["test"]][0],
                "test_file": TESTS[r["test"]][1],
                "test_name": TESTS[r["test"]][2],
                **{c: v for c, v in r.items() if c != "test"},
            }
            for i, r in enumerate(rows)
        ]
    )
    first = classify_rows(frame, {}, {}, thresholds)
    prints = [item.fingerprint for item in first]
    # Stored fingerprints, some the batch has too (counted once), and people's decisions.
    known = {
        TESTS[t]: batches.TestHistory(
            h, frozenset(prints[i % len(prints)] for i in stored) | {"f00d"}
        )
        for t, h in histories.items()
    }
    prior = {
        (
            frame.project[i % len(rows)] or frame.workflow_name[i % len(rows)],
            prints[i % len(rows)],
        ): Precedent(["ignore", "needs_spec", "someday"][i % 3], "ana", 1764460800, "seen it.")
        for i in decided
    }
    batch = classify_rows(frame, known, prior, thresholds)
    assert [item.failure_id for item in batch] == list(range(len(rows)))
    assert [item.key[2] for item in batch] == [TESTS[r["test"]][2] for r in rows]
    assert [(i.fingerprint, i.suggestion) for i in batch] == one_by_one(
        frame, known, prior, thresholds
    )


# The normaliser as first written: `\b` and lookaheads, one line at a time. The patterns in
# pmdata.triage.fingerprint are faster forms of these; the fingerprints people's decisions are
# filed under depend on their giving the same text.
PLAIN = [
    (r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?", "<time>", 0),
    (r"\b\d{1,2}:\d{2}:\d{2}(\.\d+)?\b", "<time>", 0),
    (r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "<uuid>", re.I),
    (r"\b0x[0-9a-f]+\b", "<hex>", re.I),
    (r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b", "<hex>", re.I),
    (r"(?:localhost|127\.0\.0\.1|0\.0\.0\.0):\d+", "<host>", 0),
    (r"(?:/tmp|/var/folders|/private/var)/[^\s'\"`)]+", "<tmp>", 0),
    (r":\d+:\d+\b", ":<line>", 0),
    (r"\b\d+(\.\d+)?\s*(ms|s|sec|seconds|m|min)\b", "<duration>", 0),
    (r"\"[^\"\n]*\"|'[^'\n]*'|`[^`\n]*`", "<str>", 0),
    (r"#\d+\b", "#<n>", 0),
    (r"\b\d+(\.\d+)?\b", "<n>", 0),
]


def plainly(line: str) -> str:
    for pattern, replacement, flags in PLAIN:
        line = re.sub(pattern, replacement, line, flags=flags)
    return " ".join(line.split())


@settings(max_examples=400, deadline=None)
@given(st.lists(text.map(lambda t: t.replace("\n", " ")), min_size=1, max_size=6))
def test_lines_normalised_together_come_out_as_each_alone_plainly(lines):
    assert normalise_many(lines) == [plainly(line) for line in lines]


def test_a_batch_leaves_the_cycle_collector_as_it_found_it():
    frame = pd.DataFrame(
        {
            "failure_id": [1],
            "workflow_name": ["ci"],
            "test_file": [""],
            "test_name": ["t"],
            "error": ["Error: boom"],
            "stack_trace": [None],
        }
    )
    assert gc.isenabled()
    classify_rows(frame, {}, {}, Thresholds())
    assert gc.isenabled()
    gc.disable()
    try:
        classify_rows(frame, {}, {}, Thresholds())
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_column_of_numbers_reads_as_no_text():
    """A message column that is not text (a report with a number there) classifies as if
    empty, as one failure alone would, and the rest of the batch is unaffected."""
    frame = pd.DataFrame(
        {
            "failure_id": [1, 2],
            "workflow_name": ["ci", "ci"],
            "test_file": ["", ""],
            "test_name": ["a", "b"],
            "error": [404, "Error: not implemented"],
            "stack_trace": [None, None],
            "failed_in": [3.5, None],
        }
    )
    batch = classify_rows(frame, {}, {}, Thresholds())
    assert batch[0].fingerprint == fingerprint("")
    assert batch[1].suggestion.rules[0] == "NOT_IMPLEMENTED"
