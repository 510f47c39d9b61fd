"""The in-process daily sweep, safe with several workers.

Each worker process runs a small thread that wakes at `settings.sweep_time` (local
time) and, if today's sweep has not been done, tries to take the cross-worker lock:

* PostgreSQL: `pg_try_advisory_lock` on a dedicated connection (released on unlock or
  when the connection dies with its worker);
* SQLite: a row in `job_lock` with an expiry, taken inside a write transaction (a
  crashed holder's lock lapses when it expires).

Whoever holds the lock runs the sweep and records the date in `job_lock.last_done_on`;
the others find it done and go back to sleep. So one sweep runs at a time, once a day,
however many workers there are. A worker that starts after the sweep time catches up.
Each worker also runs email delivery (app.jobs.outbox) every minute, which needs no
lock of its own.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import Engine
from sqlmodel import Session

from app.db import is_sqlite, write_bind
from app.jobs.outbox import run_scheduled
from app.jobs.sweep import run_sweep
from app.jobs.transaction import transaction
from app.models.breach import JobLock
from app.outage import is_outage, one_line_reason
from app.repositories import job_lock as job_locks
from app.services.sweep import SweepReport

if TYPE_CHECKING:
    from app.policy.registry import PolicySet


log = logging.getLogger(__name__)

SWEEP_JOB = "sweep"
LOCK_TTL = timedelta(hours=2)


def holder_id() -> str:
    """Who holds a lock: this process, and this one acquisition of it."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def advisory_key(name: str) -> int:
    """A stable 63-bit key per job name for PostgreSQL's advisory locks."""
    return zlib.crc32(f"ringfence:{name}".encode()) & 0x7FFFFFFF


def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def exclusive(
    engine: Engine, name: str = SWEEP_JOB, *, ttl: timedelta = LOCK_TTL
) -> Iterator[bool]:
    """Hold the named job lock for the block; yields False when someone else holds it."""
    if is_sqlite(engine):
        with _row_lock(engine, name, ttl) as held:
            yield held
        return
    with engine.connect() as conn:
        key = advisory_key(name)
        held = job_locks.try_lock(conn, key)
        conn.commit()
        try:
            yield held
        finally:
            if held:
                job_locks.unlock(conn, key)
                conn.commit()


@contextmanager
def _row_lock(engine: Engine, name: str, ttl: timedelta) -> Iterator[bool]:
    me = holder_id()
    with Session(bind=write_bind(engine)) as session:
        row = job_locks.job_lock(session, name)
        now = _now()
        if row is not None and row.expires_at > now:
            session.rollback()
            held = False
        else:
            if row is None:
                row = JobLock(name=name, holder=me, acquired_at=now, expires_at=now + ttl)
                session.add(row)
            else:
                row.holder, row.acquired_at, row.expires_at = me, now, now + ttl
            session.commit()
            held = True
    try:
        yield held
    finally:
        if held:
            with Session(bind=write_bind(engine)) as session:
                row = job_locks.job_lock(session, name)
                if row is not None and row.holder == me:
                    row.expires_at = _now()
                    session.commit()


def last_done(engine: Engine, name: str = SWEEP_JOB) -> date | None:
    with Session(engine) as session:
        row = job_locks.job_lock(session, name)
        return row.last_done_on if row else None


def mark_done(engine: Engine, on: date, name: str = SWEEP_JOB) -> None:
    """Record that the job ran for `on` (called while holding the lock)."""
    with transaction(engine) as session:
        row = job_locks.job_lock(session, name)
        now = _now()
        if row is None:
            session.add(JobLock(name=name, holder=holder_id(), acquired_at=now, expires_at=now,
                                last_done_on=on))
        elif row.last_done_on is None or row.last_done_on < on:
            row.last_done_on = on


def sweep_once(
    engine: Engine, *, policies: PolicySet, as_of: date, force: bool = False
) -> SweepReport | None:
    """Run the sweep for `as_of` unless another worker is running it or it is done.

    Returns the report, or None when skipped. `force` runs it even if already done
    (the command line), but never alongside another sweep.
    """
    with exclusive(engine, SWEEP_JOB) as held:
        if not held:
            log.info("sweep for %s skipped: another worker holds the lock", as_of)
            return None
        done = last_done(engine)
        if not force and done is not None and done >= as_of:
            return None
        report = run_sweep(engine, as_of=as_of, policies=policies)
        mark_done(engine, as_of)
        log.info("sweep for %s: %s", as_of, report.as_dict())
        return report


def next_run(now_local: datetime, at: time) -> datetime:
    """The next local time the daily sweep is due (today's if still ahead)."""
    candidate = now_local.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    return candidate if candidate > now_local else candidate + timedelta(days=1)


def parse_sweep_time(value: str) -> time:
    try:
        hours, minutes = value.split(":", 1)
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise ValueError(f"sweep time must be HH:MM, not {value!r}") from exc


class _Background:
    """A daemon thread running `_loop` until stopped."""

    def __init__(self, name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        raise NotImplementedError


class DailyScheduler(_Background):
    """A daemon thread that runs `job(today)` once a day at `at` (local time)."""

    def __init__(
        self, job: Callable[[date], object], *, at: time, tz: Any,
        catch_up: Callable[[date], bool] | None = None,
    ) -> None:
        self.job = job
        self.at = at
        self.tz = tz
        self.catch_up = catch_up
        super().__init__("ringfence-sweep")

    def _run(self, day: date) -> None:
        try:
            self.job(day)
        except Exception:  # a failed sweep is logged and retried tomorrow, never fatal
            log.exception("daily sweep for %s failed", day)

    def _loop(self) -> None:
        now = datetime.now(self.tz)
        past_time = now.time() >= self.at
        if past_time and self.catch_up is not None and self.catch_up(now.date()):
            self._run(now.date())
        while not self._stop.is_set():
            now = datetime.now(self.tz)
            due = next_run(now, self.at)
            if self._stop.wait((due - now).total_seconds()):
                return
            self._run(datetime.now(self.tz).date())


class IntervalScheduler(_Background):
    """A daemon thread that runs `job()` every `seconds` (email delivery from the outbox)."""

    def __init__(self, job: Callable[[], object], *, seconds: float, name: str) -> None:
        self.job = job
        self.seconds = seconds
        super().__init__(name)

    def _loop(self) -> None:
        unreachable = False
        while not self._stop.wait(self.seconds):
            try:
                self.job()
            except Exception as exc:  # delivery failures are recorded per message; never fatal
                if is_outage(exc):
                    # The database is down: one line when it starts, not a traceback a minute.
                    if not unreachable:
                        log.warning("scheduled job %s paused: database unreachable: %s",
                                    self._thread.name, one_line_reason(exc))
                    unreachable = True
                    continue
                log.exception("scheduled job %s failed", self._thread.name)
            else:
                if unreachable:
                    log.info("scheduled job %s running again", self._thread.name)
                unreachable = False


class Schedulers:
    """The background jobs of one running app, stopped together at shutdown."""

    def __init__(self, *jobs: DailyScheduler | IntervalScheduler) -> None:
        self.jobs = jobs

    def stop(self) -> None:
        for job in self.jobs:
            job.stop()


def start_scheduler(app: Any) -> Schedulers:
    """Start the daily sweep and the per-minute email delivery (create_app's lifespan)."""
    settings = app.state.settings
    engine: Engine = app.state.engine

    def job(day: date) -> None:
        sweep_once(engine, policies=app.state.policies, as_of=day)

    def not_done(day: date) -> bool:
        done = last_done(engine)
        return done is None or done < day

    daily = DailyScheduler(job, at=parse_sweep_time(settings.sweep_time), tz=settings.tz,
                           catch_up=not_done).start()
    delivery = IntervalScheduler(
        lambda: run_scheduled(engine, settings), seconds=60, name="ringfence-outbox"
    ).start()
    return Schedulers(daily, delivery)
