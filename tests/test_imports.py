"""The house rules a newcomer relies on, checked on the code itself: no import cycles between
pmdata's modules, no module reaching for another module's private names, the library never
importing Streamlit, and no module past ~450 lines."""

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "pmdata"
MAX_LINES = 400  # "no module over ~400 lines" (issue 14)
# Over the line, each to be split by concern: the test would hold them where they are, so none
# grows while it waits, and no other module joins them. None is, today.
WAITING_TO_BE_SPLIT: dict[str, int] = {}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path) -> list[tuple[str, list[str]]]:
    """(module imported, names taken from it) for every import in the file, lazy ones too."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names]
    return found


def test_no_module_imports_another_modules_private_names():
    leaks = [
        f"{name} imports {', '.join(n for n in names if n.startswith('_'))} from {target}"
        for name, path in modules().items()
        for target, names in imports_of(path)
        if target.startswith("pmdata") and any(n.startswith("_") for n in names)
    ]
    assert leaks == []


def test_pmdata_has_no_import_cycles():
    known = modules()
    graph = {name: set() for name in known}
    for name, path in known.items():
        for target, names in imports_of(path):
            # `from pkg import submodule` depends on the submodule, not on the package's body.
            submodules = {f"{target}.{n}" for n in names} & set(known)
            taken = submodules if submodules else {target}
            graph[name] |= {c for c in taken if c in known and c != name}
    cycles, state = [], {}

    def visit(node, trail):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(trail[trail.index(nxt) :] + [nxt]))
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_the_library_never_imports_streamlit():
    users = [
        name
        for name, path in modules().items()
        if any(t.split(".")[0] == "streamlit" for t, _ in imports_of(path))
    ]
    assert users == []


def test_the_library_knows_nothing_of_http_and_the_pages_nothing_of_the_api():
    """pmdata is used by the command line, the pages and the API alike: the server's framework
    stays in api/; the pages never import the API (the API reads through the pages' readers)."""
    web = [
        name
        for name, path in modules().items()
        if any(t.split(".")[0] in ("starlette", "uvicorn", "api") for t, _ in imports_of(path))
    ]
    pages = [str(p.relative_to(ROOT)) for p in [*(ROOT / "dashboard").glob("*.py"),
                                                *(ROOT / "pages").glob("*.py")]
             if any(t.split(".")[0] == "api" for t, _ in imports_of(p))]  # fmt: skip
    assert web == [] and pages == []


def test_no_module_is_past_the_size_a_reader_keeps_in_mind():
    big = {
        str(p.relative_to(ROOT)): n
        for p in [
            *PACKAGE.rglob("*.py"),
            *(ROOT / "dashboard").glob("*.py"),
            *(ROOT / "pages").glob("*.py"),
            *(ROOT / "api").glob("*.py"),
            ROOT / "server.py",
        ]
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    grown = {f: n for f, n in big.items() if n > WAITING_TO_BE_SPLIT.get(f, MAX_LINES)}
    assert grown == {}, "split these by concern"
