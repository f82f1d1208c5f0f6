"""The work item's one spelling: what a person writes in PMDASH_WORK_ITEM reads back the same."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmdata.work_item import NotAWorkItem, WorkItem

names = st.from_regex(r"[A-Za-z0-9][\w.-]{0,20}", fullmatch=True)
projects = st.from_regex(r"[^/\s]{1,20}", fullmatch=True)


@given(projects, names)
def test_a_change_reads_back_as_written(project, change):
    item = WorkItem.spec(project, change)
    assert WorkItem.parse(str(item)) == item
    assert item.session_type == "spec_implementation" and not item.is_error


@given(st.integers(min_value=0, max_value=10**12))
def test_a_failure_reads_back_as_written(failure_id):
    item = WorkItem.parse(f"error:{failure_id}")
    assert item.failure_id == failure_id and str(item) == f"error:{failure_id}"
    assert item.session_type == "error_remediation"


@pytest.mark.parametrize(
    "text", ["", "error:", "error:12a", "spec:shop", "spec:/x", "spec:a b/c", "bug:1", "error:-1"]
)
def test_anything_else_is_refused_with_the_forms_named(text):
    with pytest.raises(NotAWorkItem, match="spec:<project>/<change-id> or error:<failure-id>"):
        WorkItem.parse(text)
    assert WorkItem.read(text) is None


@pytest.mark.parametrize("stored", [None, float("nan"), ""])
def test_a_missing_stored_item_is_none(stored):
    assert WorkItem.read(stored) is None
