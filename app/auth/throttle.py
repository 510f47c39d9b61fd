"""Slowing down password guessing, per sign-in name and per network address, without
handing anyone a way to lock the owner out.

Failed attempts are rows in the database, so the limits hold however many worker
processes serve the sign-in form and the token endpoint. The same answer is given
whether or not the name has an account, so throttling reveals nothing about who exists.

**Progressive delay.** A few failures are free (`FREE_FAILURES_PER_ACCOUNT` for one
name, `FREE_FAILURES_PER_ADDRESS` from one address); after that each further attempt has
to wait, from the latest failure, 30 seconds, then 1, 2, 4 ... minutes, at most an hour.
Failures are counted over the last `LOOKBACK` (a day), so a guesser gets a few dozen tries
a day at most, however patient, instead of a fixed number per window for ever.

**The owner's usual address is not blocked by others.** An address this name has signed
in from successfully within `USUAL_ADDRESS_FOR` is its owner's: from there only the
failures made from there count (since the last success from there), so a stranger's
wrong guesses from elsewhere cannot lock the owner out, and the owner's own typos still
slow down. Everyone else, from any other address, shares one count for the name, so
spreading guesses over many addresses does not escape it; and those addresses are also
counted across names (password spraying). Only a sign-in with the right password makes
an address usual, which a guesser cannot do.

Concurrent guesses may overshoot a limit by the number of requests in flight; that is
the price of not locking a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from app.models import LoginAttempt
from app.models.base import utcnow
from app.repositories import account as repo

FREE_FAILURES_PER_ACCOUNT = 5
FREE_FAILURES_PER_ADDRESS = 20
FIRST_DELAY = timedelta(seconds=30)
LONGEST_DELAY = timedelta(hours=1)
# Failures older than this no longer count (and are pruned).
LOOKBACK = timedelta(days=1)
# A successful sign-in makes its address a usual one of that name for this long.
USUAL_ADDRESS_FOR = timedelta(days=90)
# Only the first refusal by the throttle about one name or address in this window is
# audited, so a flood of guesses cannot fill the audit trail.
AUDIT_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds
    # Which limit refused: "address" (too many failures from one network address) or
    # "name" (too many for one sign-in name); None when allowed.
    limit: str | None = None
    # The attempt comes from an address the name has signed in from before.
    usual_address: bool = False


def delay_after(failures: int, free: int) -> timedelta | None:
    """How long to wait after the latest of `failures`: nothing while they are within the
    free allowance, then `FIRST_DELAY`, doubling with each further failure, at most
    `LONGEST_DELAY`."""
    if failures < free:
        return None
    return min(FIRST_DELAY * 2 ** min(failures - free, 16), LONGEST_DELAY)


def _wait(count: int, latest: datetime | None, free: int, now: datetime) -> timedelta | None:
    delay = delay_after(count, free)
    if delay is None or latest is None:
        return None
    remaining = latest + delay - now
    return remaining if remaining > timedelta(0) else None


def check(session: Session, *, email: str, address: str, now: datetime | None = None) -> Verdict:
    """May this name, from this address, try a password now?"""
    now = now or utcnow()
    since = now - LOOKBACK
    usual_since = now - USUAL_ADDRESS_FOR
    last_here = repo.last_success_from(session, email=email, address=address, since=usual_since)
    waits: list[tuple[timedelta, str]] = []
    if last_here is not None:
        # The owner's usual address: only failures from here since they last got in.
        count, latest = repo.failures_since(
            session, since=max(since, last_here), email=email, address=address
        )
        wait = _wait(count, latest, FREE_FAILURES_PER_ACCOUNT, now)
        if wait is not None:
            waits.append((wait, "name"))
    else:
        count, latest = repo.failures_since(
            session, since=since, email=email, not_usual_since=usual_since
        )
        wait = _wait(count, latest, FREE_FAILURES_PER_ACCOUNT, now)
        if wait is not None:
            waits.append((wait, "name"))
        count, latest = repo.failures_since(session, since=since, address=address)
        wait = _wait(count, latest, FREE_FAILURES_PER_ADDRESS, now)
        if wait is not None:
            waits.append((wait, "address"))
    usual = last_here is not None
    if not waits:
        return Verdict(allowed=True, usual_address=usual)
    wait, limit = max(waits)
    return Verdict(allowed=False, retry_after=max(1, int(wait.total_seconds()) + 1),
                   limit=limit, usual_address=usual)


def refusal_key(verdict: Verdict, *, email: str, address: str) -> str:
    """What a refusal is about, for auditing only the first refusal of each window: the
    address for the per-address limit, the sign-in name for the per-name one."""
    key = f"address:{address}" if verdict.limit == "address" else f"name:{email}"
    return key[:80]


def record(
    session: Session, *, email: str, address: str, succeeded: bool, now: datetime | None = None
) -> None:
    """Count an attempt. A success also forgets what no longer counts: failures older than
    the lookback, successes older than the usual-address period, and this name's earlier
    successes from this address (the latest is the one that matters)."""
    now = now or utcnow()
    email, address = email[:320], address[:64]
    if succeeded:
        repo.prune_attempts(
            session, failures_before=now - LOOKBACK, successes_before=now - USUAL_ADDRESS_FOR,
            email=email, address=address, now=now,
        )
    session.add(LoginAttempt(at=now, email=email, address=address, succeeded=succeeded))
    session.flush()
