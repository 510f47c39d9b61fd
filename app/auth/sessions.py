"""Server-side sessions for the pages: the cookie carries a random id, the database the rest.

A session ends when the person logs out (the row is marked ended, so a copied cookie is
worthless from then on), after `session_idle_minutes` without a request, or
`session_absolute_hours` after sign-in, whichever comes first. The session's CSRF token
is derived from its id (app.auth.csrf), so it lives and dies with the session.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from app.auth.credentials import digest, new_secret, same
from app.models import Account, LoginSession, Staff
from app.models.base import utcnow
from app.repositories import account as repo
from app.services import audit
from app.settings import Settings

COOKIE_NAME = "ringfence_session"
SECURE_COOKIE_NAME = "__Host-ringfence_session"
# How stale last_seen_at may get before a request refreshes it (one write a minute at most).
TOUCH_EVERY = timedelta(seconds=60)


def cookie_name(settings: Settings) -> str:
    """Behind HTTPS the `__Host-` prefix makes browsers refuse the cookie from any subdomain."""
    return SECURE_COOKIE_NAME if settings.secure_cookies else COOKIE_NAME


def start(
    session: Session,
    account: Account,
    settings: Settings,
    *,
    address: str | None = None,
    user_agent: str | None = None,
) -> tuple[str, LoginSession]:
    """A new session (never a reused id: that would allow session fixation)."""
    now = utcnow()
    cookie_value = new_secret()
    assert account.id is not None
    row = LoginSession(
        session_hash=digest(cookie_value),
        account_id=account.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings.session_absolute_hours),
        address=(address or "")[:64] or None,
        user_agent=(user_agent or "")[:300] or None,
    )
    session.add(row)
    session.flush()
    return cookie_value, row


def is_live(row: LoginSession, settings: Settings, now: datetime) -> bool:
    if row.ended_at is not None or row.expires_at <= now:
        return False
    return now - row.last_seen_at < timedelta(minutes=settings.session_idle_minutes)


def load_with_holder(
    session: Session, cookie_value: str | None, settings: Settings, now: datetime | None = None
) -> tuple[LoginSession, Account, Staff | None] | None:
    """The live session behind a cookie with its account and person (one statement),
    refreshed for idle expiry; None when there is none."""
    if not cookie_value or len(cookie_value) > 200:
        return None
    hashed = digest(cookie_value)
    found = repo.session_with_holder(session, hashed)
    now = now or utcnow()
    if found is None:
        return None
    row = found[0]
    if not same(row.session_hash, hashed) or not is_live(row, settings, now):
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
        session.flush()
    return found


def end(session: Session, row: LoginSession, *, actor_id: int | None, reason: str) -> None:
    if row.ended_at is None:
        row.ended_at = utcnow()
        session.flush()
        audit.record(
            session, action="auth.logout" if reason == "logout" else "session.end",
            entity="login_session", entity_id=row.id, actor_id=actor_id,
            after={"account_id": row.account_id, "reason": reason},
        )


def end_all(session: Session, account_id: int, *, actor_id: int | None, reason: str) -> int:
    rows = repo.live_sessions(session, account_id)
    for row in rows:
        end(session, row, actor_id=actor_id, reason=reason)
    return len(rows)
