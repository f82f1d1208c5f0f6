import time

import pytest

from pmdata.openspec.cache import TreeCache, TreeWatcher


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


def wait_for(condition, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_watcher_sees_an_edit_within_a_second(tmp_path):
    cache = TreeCache()
    make_change(tmp_path, "a")
    root = tmp_path / "openspec"
    watcher = TreeWatcher(cache)
    try:
        watcher.watch(root)
        time.sleep(0.2)  # inotify is set up
        before = cache.get(root, "list", list_changes)
        assert before[0]["completedTasks"] == 0
        generation = cache.generation(root)
        (root / "changes" / "a" / "tasks.md").write_text("- [x] one\n")
        edited_at = time.monotonic()
        assert wait_for(lambda: cache.generation(root) > generation, 1.0), "no event within 1 s"
        assert time.monotonic() - edited_at < 1.0
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
        time.sleep(0.2)
        make_change(tmp_path, "b")
        assert wait_for(lambda: seen, 1.0)
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
        index.warm()
        assert [p.name for p in index.projects()] == ["shop"]
        assert index.cache.misses == 2
        index.changes(index.project("shop"))
        assert index.cache.hits == 1
        make_change(tmp_path / "blog", "b")
        assert wait_for(lambda: [p.name for p in index.projects()] == ["blog", "shop"], 2.0)
    finally:
        index.close()
