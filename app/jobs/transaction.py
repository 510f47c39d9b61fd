"""One committed unit of background work, the jobs' counterpart of the request session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlmodel import Session

from app.db import committed, write_bind


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A write session committed when the block ends and rolled back if it raises.

    It begins as a writer (on SQLite the write lock is taken at BEGIN) so that two
    workers doing the same job queue behind each other instead of failing half-way.
    Objects stay readable after the commit, for the job's report.
    """
    with Session(bind=write_bind(engine), expire_on_commit=False) as session, committed(session):
        yield session
