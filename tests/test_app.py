from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

APP = str(ROOT / "app.py")


def test_overview_shows_the_demo_numbers(demo_dir, monkeypatch):
    monkeypatch.setenv("PMDASH_DB", str(demo_dir / "pmdash.db"))
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert at.title[0].value == "pmdash"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Projects"] == "4"
    assert int(metrics["Failures"]) > 0
    assert at.dataframe, "sessions and failing tests are listed"


def test_no_database_explains_what_to_do(monkeypatch, tmp_path):
    monkeypatch.delenv("PMDASH_DB", raising=False)
    monkeypatch.chdir(tmp_path)  # no .streamlit/secrets.toml here
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert "No database is configured" in at.info[0].value


def test_corrupt_database_is_a_message_not_a_crash(monkeypatch, tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not sqlite" * 100)
    monkeypatch.setenv("PMDASH_DB", str(bad))
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert "not a SQLite database" in at.error[0].value
