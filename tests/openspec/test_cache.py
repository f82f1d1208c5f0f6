import pytest

from pmdata.openspec.cache import TreeCache, TreeWatcher
from tests.conftest import wait_for


def make_change(root, name, tasks="- [ ] one\n"):
    folder = root / "openspec" / "changes" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tasks.md").write_text(tasks)
    return folder


def list_changes(tree):
    return tree.list_changes()


def test_answers_are_cached_until_the_ttl_runs_out(tmp_path):
    now = [0.0]
    cache = TreeCache(ttl_seconds=300, clock=lambda: now[0])
    make_change(tmp_path, "a")
    first = cache.get(tmp_path / "openspec", "list", list_changes)
    make_change(tmp_path, "b")
    assert cache.get(tmp_path / "openspec", "list", list_changes) is first  # warm
    now[0] = 301
    assert {c["name"] for c in cache.get(tmp_path / "openspec", "list", list_changes)} == {"a", "b"}
    assert (cache.hits, cache.misses) == (1, 2)


def test_least_recently_used_entries_go_first(tmp_path):
    cache = TreeCache(max_entries=2)
    for name in ("a", "b", "c"):
        make_change(tmp_path / name, "x")
        cache.get(tmp_path / name / "openspec", "list", list_changes)
    cache.get(tmp_path / "b" / "openspec", "list", list_changes)
    assert cache.misses == 3 and cache.hits == 1
    cache.get(tmp_path / "a" / "openspec", "list", list_changes)  # evicted: parsed again
    assert cache.misses == 4


def test_watcher_sees_an_edit(tmp_path):
    """`watch` returns with the inotify watch in place (watchdog adds it on the caller's thread);
    how fast an edit lands is bench material, not a test's."""
    cache = TreeCache()
    make_change(tmp_path, "a")
    root = tmp_path / "openspec"
    watcher = TreeWatcher(cache)
    try:
        watcher.watch(root)
        before = cache.get(root, "list", list_changes)
        assert before[0]["completedTasks"] == 0
        generation = cache.generation(root)
        (root / "changes" / "a" / "tasks.md").write_text("- [x] one\n")
        assert wait_for(lambda: cache.generation(root) > generation, 10), "no event"
        assert cache.get(root, "list", list_changes)[0]["completedTasks"] == 1
    finally:
        watcher.stop()


def test_watcher_sees_a_new_change_folder(tmp_path):
    cache = TreeCache()
    make_change(tmp_path, "a")
    root = tmp_path / "openspec"
    seen = []
    watcher = TreeWatcher(cache, on_change=seen.append)
    try:
        watcher.watch(root)
        make_change(tmp_path, "b")
        assert wait_for(lambda: seen, 10)
        assert {c["name"] for c in cache.get(root, "list", list_changes)} == {"a", "b"}
    finally:
        watcher.stop()


@pytest.mark.parametrize("missing", ["nope"])
def test_watching_a_missing_tree_is_a_no_op(tmp_path, missing):
    watcher = TreeWatcher(TreeCache())
    try:
        watcher.watch(tmp_path / missing)
        assert watcher.watched == []
    finally:
        watcher.stop()


def test_index_finds_warms_and_notices_a_new_project(tmp_path):
    from pmdata.openspec.index import ProjectIndex

    make_change(tmp_path / "shop", "a")
    index = ProjectIndex([tmp_path], rescan_seconds=3600)
    try:
        assert index.settle()  # the watches are set up off the caller's thread
        index.warm()
        assert [p.name for p in index.projects()] == ["shop"]
        hits = index.cache.hits
        index.summaries(index.project("shop"))  # parsed by warm: served from the cache
        index.specs(index.project("shop"))
        assert index.cache.hits == hits + 2
        make_change(tmp_path / "blog", "b")
        assert wait_for(lambda: [p.name for p in index.projects()] == ["blog", "shop"], 2.0)
    finally:
        index.close()


def test_a_question_asked_while_it_is_being_answered_is_answered_once(tmp_path):
    import threading

    cache = TreeCache()
    make_change(tmp_path, "a")
    started, release, calls = threading.Event(), threading.Event(), []

    def slow_list(tree):
        calls.append(1)
        started.set()
        release.wait(5)
        return tree.list_changes()

    answers = []
    leader = threading.Thread(
        target=lambda: answers.append(cache.get(tmp_path / "openspec", "list", slow_list))
    )
    leader.start()
    started.wait(5)
    follower = threading.Thread(
        target=lambda: answers.append(cache.get(tmp_path / "openspec", "list", slow_list))
    )
    follower.start()
    assert wait_for(lambda: cache.misses == 2, 5)  # the follower has found the leader's flight
    release.set()
    leader.join(5)
    follower.join(5)
    assert len(calls) == 1
    assert len(answers) == 2 and answers[0] is answers[1]


def test_a_failed_answer_lets_the_waiting_caller_compute_its_own(tmp_path):
    import threading

    cache = TreeCache()
    make_change(tmp_path, "a")
    started, release = threading.Event(), threading.Event()

    def broken(tree):
        started.set()
        release.wait(5)
        raise ValueError("parser bug")

    def leader():
        with pytest.raises(ValueError):
            cache.get(tmp_path / "openspec", "list", broken)

    first = threading.Thread(target=leader)
    first.start()
    started.wait(5)
    answers = []
    second = threading.Thread(
        target=lambda: answers.append(cache.get(tmp_path / "openspec", "list", list_changes))
    )
    second.start()
    assert wait_for(lambda: cache.misses == 2, 5)  # the second has found the leader's flight
    release.set()
    first.join(5)
    second.join(5)
    assert [c["name"] for c in answers[0]] == ["a"]


def test_validation_runs_in_the_background_and_agrees_with_the_change_page(tmp_path):
    from pmdata.openspec.index import ProjectIndex
    from pmdata.openspec.tree import OpenSpecTree
    from pmdata.openspec.validate import validate_tree

    make_change(tmp_path / "shop", "no-deltas")  # invalid: a change needs a delta
    index = ProjectIndex([tmp_path], rescan_seconds=3600)
    try:
        shop = index.project("shop")
        assert index.change_verdict(shop, "no-deltas")["valid"] is False  # before the batch
        first = index.validation_if_ready(shop)  # None: asked for, not waited on
        assert first is None or ("change", "no-deltas") in first
        assert wait_for(lambda: index.validation_if_ready(shop) is not None, 10.0)
        assert index.validating() == 0
        verdicts = index.validation_if_ready(shop)
        items = validate_tree(OpenSpecTree(shop.openspec_path))["items"]
        expected = {(i["type"], i["id"]): i for i in items}
        assert verdicts.keys() == expected.keys()
        assert index.change_verdict(shop, "no-deltas") == verdicts[("change", "no-deltas")]
        assert index.change_verdict(shop, "nonexistent") is None
    finally:
        index.close()


def test_a_validator_crash_is_logged_once_not_retried_on_every_view(tmp_path, monkeypatch, caplog):
    from pmdata.openspec.index import ProjectIndex

    calls = []

    def crash(self, tree):
        calls.append(1)
        raise RuntimeError("validator bug")

    monkeypatch.setattr(ProjectIndex, "_verdicts_elsewhere", crash)
    make_change(tmp_path / "shop", "a")
    index = ProjectIndex([tmp_path], rescan_seconds=3600)
    try:
        shop = index.project("shop")
        index.validation_if_ready(shop)
        assert wait_for(lambda: index.validating() == 0 and calls, 5.0)
        for _ in range(5):
            assert index.validation_if_ready(shop) is None  # unknown, not "valid"
        assert index.settle()  # whatever those asked for has run
        assert len(calls) == 1
        assert "validator bug" in caplog.text
    finally:
        index.close()


def test_an_edit_before_the_watch_is_up_is_not_missed(tmp_path):
    """Watches are set up by the background worker; what was parsed before they were is dropped."""
    from pmdata.openspec.index import ProjectIndex

    folder = make_change(tmp_path / "shop", "a", tasks="- [ ] one\n")
    index = ProjectIndex([tmp_path], rescan_seconds=3600)
    try:
        shop = index.project("shop")
        before = index.summaries(shop)  # may well be parsed before the watch exists
        (folder / "tasks.md").write_text("- [x] one\n")
        assert index.settle()
        assert before[0].completed_tasks in (0, 1)
        assert wait_for(lambda: index.summaries(shop)[0].completed_tasks == 1, 2.0)
    finally:
        index.close()


def test_start_up_work_waits_for_the_grace_period(tmp_path):
    """A server's first page has the process: the background parse and watches come after."""
    from pmdata.openspec.index import ProjectIndex

    make_change(tmp_path / "shop", "a")
    index = ProjectIndex([tmp_path], rescan_seconds=3600, startup_grace=3600)
    try:
        index.warm_later()
        assert index.in_grace.wait(10)  # the worker has started, and waits out the grace
        assert index.watcher.watched == [] and index.cache.misses == 0
        index.end_grace()
        assert index.settle()
        assert index.watcher.watched == [(tmp_path / "shop" / "openspec").resolve()]
        assert index.cache.peek(index.project("shop").openspec_path, "summaries") is not None
    finally:
        index.close()


def test_a_validation_helper_that_hangs_is_killed_and_said(tmp_path, monkeypatch):
    """A helper that never answers (stuck on a pathological tree, say) costs at most the wait,
    and the next question starts a fresh one."""
    import subprocess
    import sys

    from pmdata.openspec import verdicts

    monkeypatch.setattr(verdicts, "ANSWER_WAIT_S", 0.5)
    worker = verdicts.ValidationWorker()
    hung = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    worker._process = hung  # noqa: SLF001 - the helper, swapped for one that never answers
    with pytest.raises(verdicts.VerdictError, match="gave no answer in 0.5 s"):
        worker.verdicts(make_change(tmp_path, "a").parents[1])  # the openspec folder
    assert hung.poll() is not None, "the hung helper was killed"
    assert ("change", "a") in worker.verdicts(tmp_path / "openspec")  # a fresh helper answers
    worker.close()
