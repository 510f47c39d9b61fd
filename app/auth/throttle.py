"""Slowing down password guessing, per sign-in name and per network address.

Failed attempts are rows in the database, so the limits hold however many worker
processes serve the login form. The same answer is given whether or not the name has an
account, so throttling reveals nothing about who exists. Concurrent guesses may overshoot
a limit by the number of requests in flight; that is the price of not locking a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from app.auth import repository as repo
from app.models import LoginAttempt
from app.models.base import utcnow

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
KEEP_ATTEMPTS = timedelta(days=1)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds
    # Which limit refused: "address" (too many failures from one network address) or
    # "name" (too many for one sign-in name); None when allowed.
    limit: str | None = None


def check(session: Session, *, email: str, address: str, now: datetime | None = None) -> Verdict:
    """May this name, from this address, try a password now?"""
    now = now or utcnow()
    since = now - WINDOW
    last_ok = repo.last_success_at(session, email)
    account_since = max(since, last_ok) if last_ok and last_ok > since else since
    by_name, oldest_name = repo.failures_since(session, since=account_since, email=email)
    by_address, oldest_address = repo.failures_since(session, since=since, address=address)
    waits: list[tuple[timedelta, str]] = []
    if by_name >= MAX_FAILURES_PER_ACCOUNT and oldest_name is not None:
        waits.append((oldest_name + WINDOW - now, "name"))
    if by_address >= MAX_FAILURES_PER_ADDRESS and oldest_address is not None:
        waits.append((oldest_address + WINDOW - now, "address"))
    if not waits:
        return Verdict(allowed=True)
    wait, limit = max(waits)
    return Verdict(allowed=False, retry_after=max(1, int(wait.total_seconds()) + 1), limit=limit)


def refusal_key(verdict: Verdict, *, email: str, address: str) -> str:
    """What a refusal is about, for auditing only the first refusal of each window: the
    address for the per-address limit, the sign-in name for the per-name one."""
    key = f"address:{address}" if verdict.limit == "address" else f"name:{email}"
    return key[:80]


def record(
    session: Session, *, email: str, address: str, succeeded: bool, now: datetime | None = None
) -> None:
    now = now or utcnow()
    session.add(LoginAttempt(at=now, email=email[:320], address=address[:64], succeeded=succeeded))
    if succeeded:
        repo.prune_attempts(session, before=now - KEEP_ATTEMPTS)
    session.flush()
