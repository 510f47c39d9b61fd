"""Running Alembic from the service: `ringfence migrate`, tests and the demo use this."""

from __future__ import annotations

from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from app.settings import PROJECT_ROOT


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    config.attributes["skip_logging"] = True
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


@dataclass(frozen=True)
class SchemaState:
    """Where a database's schema is, against the revisions this code ships."""

    current: tuple[str, ...]
    head: str | None

    @property
    def at_head(self) -> bool:
        return self.head is not None and self.current == (self.head,)

    def describe(self) -> str:
        if not self.current:
            return "has no Ringfence schema yet"
        return f"is at revision {', '.join(self.current)}, not {self.head}"


def schema_state(engine: Engine) -> SchemaState:
    """The database's Alembic revision(s) and the head of `migrations/` (one query)."""
    script = ScriptDirectory.from_config(alembic_config(""))
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    return SchemaState(current=tuple(current), head=script.get_current_head())


def is_empty(engine: Engine) -> bool:
    """True when the schema has no staff yet (used by `demo --if-empty`)."""
    from sqlmodel import Session, select

    from app.models import Staff

    if "staff" not in inspect(engine).get_table_names():
        return True
    with Session(engine) as session:
        return session.exec(select(Staff.id).limit(1)).first() is None
