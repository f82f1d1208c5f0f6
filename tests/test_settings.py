import os
from pathlib import Path

import pytest

from pmdata.errors import SettingsError
from pmdata.settings import explain_settings, load_settings


def test_defaults_when_nothing_is_set(tmp_path):
    settings, sources = explain_settings({}, secrets_file=tmp_path / "none.toml")
    assert settings.db is None
    assert settings.project_roots == [Path(os.path.expanduser("~/dev/projects"))]
    assert settings.readonly is False
    assert set(sources.values()) == {"default"}


def test_environment_values_and_their_source(tmp_path):
    env = {
        "PMDASH_DB": str(tmp_path / "x.db"),
        "PMDASH_PROJECT_ROOTS": os.pathsep.join(["/a", "~/b"]),
        "PMDASH_READONLY": "1",
        "PMDASH_DISABLE": "Specs, errors",
    }
    settings, sources = explain_settings(env, secrets_file=tmp_path / "none.toml")
    assert settings.db == tmp_path / "x.db"
    assert settings.project_roots == [Path("/a"), Path(os.path.expanduser("~/b"))]
    assert settings.readonly is True
    assert settings.disable == ["specs", "errors"]
    assert sources["db"] == "environment (PMDASH_DB)"
    assert sources["idle_minutes"] == "default"


def test_secrets_file_is_read_and_environment_wins(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[pmdash]\ndb = "/from/secrets.db"\nidle_minutes = 9\n')
    settings, sources = explain_settings({"PMDASH_DB": "/from/env.db"}, secrets_file=secrets)
    assert settings.db == Path("/from/env.db")
    assert settings.idle_minutes == 9
    assert sources["idle_minutes"] == str(secrets)


def test_command_line_overrides_environment(tmp_path):
    settings = load_settings({"PMDASH_DB": "/env.db"}, tmp_path / "none.toml", db=Path("/cli.db"))
    assert settings.db == Path("/cli.db")


def test_bad_value_names_the_variable(tmp_path):
    with pytest.raises(SettingsError, match="PMDASH_READONLY"):
        load_settings({"PMDASH_READONLY": "maybe"}, tmp_path / "none.toml")


def test_broken_secrets_file_is_a_clear_error(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("[pmdash\n")
    with pytest.raises(SettingsError, match="cannot read"):
        load_settings({}, secrets)


def test_every_setting_is_in_the_readme():
    """A setting nobody can find is not a setting: each one has a row in the README's table."""
    from pmdata.settings import Settings
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [
        Settings.env_var(name)
        for name in Settings.model_fields
        if f"`{Settings.env_var(name)}`" not in readme
    ]
    assert missing == []
