"""A work item: the one piece of work an agent session is on, as a person writes it in
`PMDASH_WORK_ITEM` and as pmdash stores it in `sessions.work_item`.

- `spec:<project>/<change-id>`: planned work, an OpenSpec change of a project;
- `error:<failure id>`: a fix for a failing test, named by the same id as the failure's page
  (`/failure?failure=91` is `error:91`).

Standard library only: the hook path imports it on every Claude Code event."""

from __future__ import annotations

import re

from pmdata.vocabulary import ERROR_REMEDIATION, SPEC_IMPLEMENTATION

_FORM = re.compile(
    r"^(?:spec:(?P<project>[^/\s]+)/(?P<change>[A-Za-z0-9][\w.-]*)|error:(?P<failure>\d+))$"
)
FORMS = "spec:<project>/<change-id> or error:<failure-id>"


class NotAWorkItem(ValueError):
    """The text is not a work item; the message says what one looks like."""


class WorkItem:
    """A change of a project (`project`, `change`) or a failure (`failure_id`)."""

    __slots__ = ("project", "change", "failure_id")  # a plain class: the hook path is timed

    def __init__(
        self,
        project: str | None = None,
        change: str | None = None,
        failure_id: int | None = None,
    ) -> None:
        self.project, self.change, self.failure_id = project, change, failure_id

    @classmethod
    def spec(cls, project: str, change: str) -> WorkItem:
        return cls(project=project, change=change)

    @classmethod
    def error(cls, failure_id: int) -> WorkItem:
        return cls(failure_id=int(failure_id))

    @classmethod
    def parse(cls, text: str) -> WorkItem:
        m = _FORM.match(text.strip())
        if m is None:
            raise NotAWorkItem(f"{text!r} is not {FORMS}")
        if m["failure"]:
            return cls.error(int(m["failure"]))
        return cls.spec(m["project"], m["change"])

    @classmethod
    def read(cls, value) -> WorkItem | None:
        """A stored work item as it comes back from a table: None for none (None, NaN, an
        empty text) or for one this version does not know."""
        if not isinstance(value, str) or not value:
            return None
        try:
            return cls.parse(value)
        except NotAWorkItem:
            return None

    @property
    def is_error(self) -> bool:
        return self.failure_id is not None

    @property
    def session_type(self) -> str:
        """The `sessions.session_type` of a session on this item."""
        return ERROR_REMEDIATION if self.is_error else SPEC_IMPLEMENTATION

    def __str__(self) -> str:
        if self.is_error:
            return f"error:{self.failure_id}"
        return f"spec:{self.project}/{self.change}"

    def __repr__(self) -> str:
        return f"WorkItem({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WorkItem) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))
