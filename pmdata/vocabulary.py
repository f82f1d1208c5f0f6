"""The product's words for decisions, states and kinds of session, spelled once. Standard
library only: the hook path and the database schema import it too.

Each tuple is in the order people read it (the Errors page's decision list, the Specs tabs)."""

# What a failure needs, as a person or the classifier decides it.
NEEDS_SPEC, ONE_OFF_FIX, IGNORE, PENDING = "needs_spec", "one_off_fix", "ignore", "pending"
DECISIONS = (NEEDS_SPEC, ONE_OFF_FIX, IGNORE, PENDING)
# A failure nobody (not even the classifier) has looked at yet: never shown as "pending", which is
# a decision ("someone must look").
UNTRIAGED = "untriaged"
TRIAGE_STATES = (*DECISIONS, UNTRIAGED)

# A change's state: the official CLI's three, and archived.
CHANGE_STATES = ("no-tasks", "in-progress", "complete", "archived")

# An agent session's state, worked out from its hook events (pmdata.sessions).
SESSION_STATES = ("waiting", "running", "idle", "finished")

# What a session was started for (`sessions.session_type`): by hand, or on a work item.
MANUAL, SPEC_IMPLEMENTATION, ERROR_REMEDIATION = (
    "manual",
    "spec_implementation",
    "error_remediation",
)
SESSION_TYPES = (MANUAL, SPEC_IMPLEMENTATION, ERROR_REMEDIATION)
