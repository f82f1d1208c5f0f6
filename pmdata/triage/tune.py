"""`pmdata triage tune`: replay what people decided against the rules, and say which change to a
threshold would raise agreement and by how much. Nothing is applied: a person reads the report
and sets the PMDASH_* variable it names.

The replay classifies every failure a person decided with today's history (not the history as it
was when they decided) and without their decisions as precedents, which would make every
decision agree with itself. Each threshold is moved on its own, one step at a time over a small
range, so every line of the report is one change a person can make and understand.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, fields, replace

import pandas as pd

from pmdata.analytics import Analytics
from pmdata.triage.batch import classify_rows, histories, triaged_failures_sql
from pmdata.triage.rules import Thresholds

# Setting names, and the values tried for each threshold.
SETTINGS = {
    "persistent_after": "PMDASH_PERSISTENT_AFTER",
    "recurring_after": "PMDASH_RECURRING_AFTER",
    "flaky_flips": "PMDASH_FLAKY_FLIPS",
    "recovered_after": "PMDASH_RECOVERED_AFTER",
}
TRIED = range(2, 11)

DECIDED = triaged_failures_sql("t.decision AS person", "t.decided_by IS NOT NULL")


@dataclass(frozen=True)
class Change:
    setting: str
    value: int
    agree: int

    def line(self, now: int, total: int) -> str:
        gain = (self.agree - now) / total
        return (
            f"{self.setting}={self.value}: {now / total:.0%} → {self.agree / total:.0%} "
            f"(+{gain * 100:.0f} points, {self.agree - now} more of {total} agree)"
        )


@dataclass(frozen=True)
class RuleRecord:
    rule: str
    reviewed: int
    kept: int
    instead: str  # what people chose most often when they overrode it

    @property
    def agreement(self) -> float:
        return self.kept / self.reviewed if self.reviewed else 0.0


@dataclass(frozen=True)
class Tuning:
    total: int
    agree: int
    changes: list[Change]  # those that raise agreement, best first
    rules: list[RuleRecord]  # per deciding rule, least agreed first

    def lines(self) -> list[str]:
        if not self.total:
            return ["no person has decided a failure yet: nothing to replay"]
        out = [
            f"replayed {self.total} decisions with today's history: the rules agree with "
            f"{self.agree} ({self.agree / self.total:.0%})"
        ]
        if self.changes:
            out.append("changes that would raise agreement (none is applied):")
            out += ["  " + c.line(self.agree, self.total) for c in self.changes]
        else:
            out.append("no single threshold change raises agreement")
        out.append("per deciding rule (kept / reviewed, what people chose instead):")
        for r in self.rules:
            instead = f", else {r.instead}" if r.instead else ""
            out.append(f"  {r.rule:16} {r.kept}/{r.reviewed} ({r.agreement:.0%}){instead}")
        return out


def _agreeing(decided: pd.DataFrame, known, thresholds: Thresholds) -> tuple[int, list]:
    items = classify_rows(decided, known, {}, thresholds)
    person = dict(zip(decided["failure_id"], decided["person"], strict=True))
    agree = sum(1 for i in items if i.suggestion.decision == person[i.failure_id])
    return agree, items


def tune(analytics: Analytics, thresholds: Thresholds) -> Tuning:
    decided = analytics.run_sql(DECIDED, {}, "triage tune")
    if decided.empty:
        return Tuning(0, 0, [], [])
    known = histories(analytics)
    agree, items = _agreeing(decided, known, thresholds)
    changes = []
    names = {f.name for f in fields(Thresholds)}
    for name, setting in SETTINGS.items():
        if name not in names:
            continue
        for value in TRIED:
            if value == getattr(thresholds, name):
                continue
            tried, _ = _agreeing(decided, known, replace(thresholds, **{name: value}))
            if tried > agree:
                changes.append(Change(setting, value, tried))
    changes.sort(key=lambda c: (-c.agree, c.setting, c.value))
    # The best value per setting: one line each.
    best: dict[str, Change] = {}
    for change in changes:
        best.setdefault(change.setting, change)
    person = dict(zip(decided["failure_id"], decided["person"], strict=True))
    by_rule: dict[str, list[tuple[str, str]]] = {}
    for item in items:
        rule = item.suggestion.rules[0] if item.suggestion.rules else "(none)"
        by_rule.setdefault(rule, []).append((item.suggestion.decision, person[item.failure_id]))
    records = []
    for rule, pairs in by_rule.items():
        kept = sum(1 for s, p in pairs if s == p)
        others = Counter(p for s, p in pairs if s != p).most_common(1)
        records.append(RuleRecord(rule, len(pairs), kept, others[0][0] if others else ""))
    records.sort(key=lambda r: (r.agreement, -r.reviewed, r.rule))
    return Tuning(len(decided), agree, list(best.values()), records)
