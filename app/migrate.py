"""Running Alembic from the service: `ringfence migrate`, tests and the demo use this."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
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


def is_empty(engine: Engine) -> bool:
    """True when the schema has no staff yet (used by `demo --if-empty`)."""
    from sqlmodel import Session, select

    from app.models import Staff

    if "staff" not in inspect(engine).get_table_names():
        return True
    with Session(engine) as session:
        return session.exec(select(Staff.id).limit(1)).first() is None
