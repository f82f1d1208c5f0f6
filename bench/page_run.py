"""A page's script run at 1,000,000 failures: cold (first run in a fresh process: the DuckDB
snapshot is loaded) and warm (a rerun with nothing changed). Targets: ≤ 1.5 s cold, ≤ 0.3 s warm.

Baseline, same run: the bare frame (app.py with every page switched off).
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from big_demo import big_db  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def as_a_running_server() -> None:
    """AppTest resets Streamlit's legacy pages/ discovery before every run, so each run would
    also pay for the frame guard's rerun, which a server pays once in its life (see
    dashboard/frame.py): time what the server does on every request after its first."""
    from streamlit.runtime.pages_manager import PagesManager

    init = PagesManager.__init__

    def after_first_request(self, *args, **kwargs):
        init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = after_first_request


def timed_runs(page: str | None) -> tuple[float, float]:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=600)
    start = time.perf_counter()
    at.run()
    if page:
        at.switch_page(page).run()
    cold = time.perf_counter() - start
    warm = []
    for _ in range(3):
        start = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - start)
    assert not at.exception, [e.value for e in at.exception]
    return cold, min(warm)


def main():
    db = big_db()
    as_a_running_server()
    os.environ["PMDASH_DB"] = str(db)
    os.environ["PMDASH_PROJECT_ROOTS"] = str(db.parent / "projects")
    for page in ("pages/errors.py", "pages/all_work.py", "pages/sessions.py"):
        cold, warm = timed_runs(page)
        print(f"{page:24} cold {cold:6.2f} s (target <= 1.5)   warm {warm:6.3f} s (target <= 0.3)")


if __name__ == "__main__":
    main()
