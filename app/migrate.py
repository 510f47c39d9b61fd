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


class MigrationRefused(Exception):
    """A migration `ringfence migrate` will not run; the message says why and what to do."""


@dataclass(frozen=True)
class MigrationReport:
    """What `migrate_to` did: from which revision to which, and how."""

    before: str | None
    after: str
    action: str  # "upgraded", "downgraded" or "unchanged"
    head: str | None

    def describe(self, where: str) -> str:
        at = f"{self.after} (head)" if self.after == self.head else self.after
        if self.action == "unchanged":
            return f"Database at {where} is already at {at}: nothing to do."
        start = self.before or "an empty database"
        return f"Database at {where} {self.action} from {start} to {at}."


def migrate_to(database_url: str, target: str = "head", *,
               allow_downgrade: bool = False) -> MigrationReport:
    """Bring the schema to `target` and say what happened.

    Why not plain `alembic upgrade`: asked for an older revision it silently does nothing,
    and it prints the same for a first migration as for one with nothing to do. Going
    back is a downgrade, which drops what later revisions added, so it needs
    `allow_downgrade`; a revision that is neither ahead nor behind is refused.
    """
    from alembic.util import CommandError

    from app.db import make_engine

    script = ScriptDirectory.from_config(alembic_config(""))
    try:
        wanted = script.get_revision(target)
    except CommandError as exc:
        raise MigrationRefused(f"there is no revision {target!r}") from exc
    if wanted is None:
        raise MigrationRefused(f"there is no revision {target!r}")
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_heads()
    finally:
        engine.dispose()
    head = script.get_current_head()
    before = current[0] if current else None
    if before == wanted.revision:
        return MigrationReport(before, wanted.revision, "unchanged", head)
    behind = before is not None and wanted.revision in {
        rev.revision for rev in script.iterate_revisions(before, "base")
    }
    if behind:
        if not allow_downgrade:
            raise MigrationRefused(
                f"{wanted.revision} is older than the database's {before}: that is a "
                f"downgrade, which drops what the later revisions added; run "
                f"`ringfence migrate {target} --allow-downgrade` to go back"
            )
        downgrade(database_url, wanted.revision)
        return MigrationReport(before, wanted.revision, "downgraded", head)
    ahead = before is None or before in {
        rev.revision for rev in script.iterate_revisions(wanted.revision, "base")
    }
    if not ahead:
        raise MigrationRefused(f"revision {wanted.revision} cannot be reached from {before}")
    upgrade(database_url, wanted.revision)
    return MigrationReport(before, wanted.revision, "upgraded", head)
