"""Configuration: one pydantic settings model read from the environment and Streamlit's secrets."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pmdata.errors import SettingsError

ENV_PREFIX = "PMDASH_"
DEFAULT_PROJECT_ROOT = "~/dev/projects"
# Streamlit reads this file for st.secrets; we read the same file so one place configures both.
SECRETS_FILE = Path(".streamlit") / "secrets.toml"


def _split_roots(value: Any) -> Any:
    if isinstance(value, str):
        return [part for part in value.split(os.pathsep) if part.strip()]
    return value


class Settings(BaseModel):
    """Everything pmdash can be told. Each field maps to `PMDASH_<NAME>` in the environment.

    A plain model rather than pydantic-settings' BaseSettings: we merge the layers ourselves so
    that `pmdata config` can say where every value came from.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    db: Path | None = Field(None, description="The homelab SQLite file.")
    project_roots: list[Path] = Field(
        default_factory=lambda: [Path(DEFAULT_PROJECT_ROOT)],
        description="Folders scanned for projects holding openspec/ (os.pathsep-separated).",
    )
    readonly: bool = Field(False, description="Hide every write form in the dashboard.")
    disable: list[str] = Field(
        default_factory=list, description="Pages turned off, comma-separated (specs,errors,...)."
    )
    rescan_seconds: int = Field(300, ge=1, description="How often project roots are rescanned.")
    cache_ttl_seconds: int = Field(300, ge=1, description="How long parsed OpenSpec trees live.")
    idle_minutes: int = Field(5, ge=1, description="A session with no event for this long is idle.")
    persistent_after: int = Field(
        5,
        ge=2,
        description="Triage: this many failed runs in a row up to the latest is PERSISTENT.",
    )
    recurring_after: int = Field(
        3, ge=2, description="Triage: this many failures of one test is RECURRING."
    )
    flaky_flips: int = Field(
        4, ge=1, description="Triage: this many pass/fail flips (or one pass on retry) is FLAKY."
    )
    recovered_after: int = Field(
        5,
        ge=1,
        description="Triage: this many passing runs since the last failure is RECOVERED (ignore).",
    )
    password: str | None = Field(
        None, description="A shared password guarding the dashboard (best kept in secrets.toml)."
    )
    state_dir: Path | None = Field(
        None,
        description=(
            "pmdash's own files: hook spool and log, locks, the dashboard's copy of the database "
            "(default ~/.local/state/pmdash). Set it in the environment: the hook reads it there."
        ),
    )

    @field_validator("project_roots", mode="before")
    @classmethod
    def _roots_from_pathsep(cls, value: Any) -> Any:
        return _split_roots(value)

    @field_validator("disable", mode="before")
    @classmethod
    def _disable_from_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip().lower() for part in value.split(",") if part.strip()]
        return value

    @field_validator("project_roots", mode="after")
    @classmethod
    def _expand_roots(cls, value: list[Path]) -> list[Path]:
        return [Path(os.path.expanduser(str(p))) for p in value]

    @field_validator("db", "state_dir", mode="after")
    @classmethod
    def _expand_path(cls, value: Path | None) -> Path | None:
        return None if value is None else Path(os.path.expanduser(str(value)))

    @classmethod
    def env_var(cls, field: str) -> str:
        return ENV_PREFIX + field.upper()


def _secrets_values(secrets_file: Path) -> dict[str, Any]:
    """Values under a `[pmdash]` table in secrets.toml (keys are the field names)."""
    if not secrets_file.is_file():
        return {}
    try:
        data = tomllib.loads(secrets_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"cannot read {secrets_file}: {exc}") from exc
    section = data.get("pmdash", {})
    return {k: v for k, v in section.items() if k in Settings.model_fields}


def _env_values(environ: dict[str, str]) -> dict[str, Any]:
    out = {}
    for field in Settings.model_fields:
        name = Settings.env_var(field)
        if name in environ and environ[name] != "":
            out[field] = environ[name]
    return out


def load_settings(
    environ: dict[str, str] | None = None, secrets_file: Path | None = None, **overrides: Any
) -> Settings:
    """Settings from (lowest first) defaults, secrets.toml, the environment, then overrides."""
    return explain_settings(environ, secrets_file, **overrides)[0]


def explain_settings(
    environ: dict[str, str] | None = None, secrets_file: Path | None = None, **overrides: Any
) -> tuple[Settings, dict[str, str]]:
    """The settings and, for each field, where its value came from."""
    environ = dict(os.environ if environ is None else environ)
    secrets_file = SECRETS_FILE if secrets_file is None else secrets_file
    layers = [
        (str(secrets_file), _secrets_values(secrets_file)),
        ("environment", _env_values(environ)),
        ("command line", {k: v for k, v in overrides.items() if v is not None}),
    ]
    values: dict[str, Any] = {}
    sources = dict.fromkeys(Settings.model_fields, "default")
    for source, layer in layers:
        for field, value in layer.items():
            values[field] = value
            sources[field] = (
                f"environment ({Settings.env_var(field)})" if source == "environment" else source
            )
    try:
        settings = Settings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        raise SettingsError(
            f"{Settings.env_var(field)}: {first['msg']} (from {sources.get(field, '?')})"
        ) from exc
    return settings, sources
