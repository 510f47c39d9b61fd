"""Migrations: up from empty, down to nothing, up again, and models agree with head.

Run on both backends. The drift check is what `alembic check` does: compare the
migrated schema with SQLModel.metadata and expect no differences, so a model change
without its migration (or the reverse) fails here rather than in production.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, String, inspect
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers every table on SQLModel.metadata)
from app.db import make_engine
from app.migrate import downgrade, upgrade

FOUNDATION = {
    "service_area", "team", "staff", "enrolment", "pause", "sign_off", "adjustment",
    "case", "allocation", "audit_event",
}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _differences(url: str, metadata: MetaData = SQLModel.metadata) -> list[Any]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "render_as_batch": connection.dialect.name == "sqlite",
                },
            )
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(make_database_url: Callable[..., str]) -> None:
    url = make_database_url(migrated=False)
    assert _tables(url) == set()
    upgrade(url)
    after_upgrade = _tables(url)
    assert FOUNDATION <= after_upgrade
    assert after_upgrade == set(SQLModel.metadata.tables)
    downgrade(url, "base")
    assert _tables(url) == set()
    upgrade(url)
    assert _tables(url) == after_upgrade


def test_models_and_head_agree(make_database_url: Callable[..., str]) -> None:
    url = make_database_url(migrated=False)
    upgrade(url)
    assert _differences(url) == []


def test_the_drift_check_notices_a_model_without_its_migration(
    make_database_url: Callable[..., str],
) -> None:
    url = make_database_url(migrated=False)
    upgrade(url)
    changed = MetaData()
    for table in SQLModel.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["staff"].append_column(Column("nickname", String(40), nullable=True))
    differences = _differences(url, changed)
    assert [(d[0], d[2], d[3].name) for d in differences] == [("add_column", "staff", "nickname")]
