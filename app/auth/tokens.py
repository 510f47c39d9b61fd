"""Bearer tokens: short-lived ones from the password flow, and personal access tokens.

Tokens are opaque random strings stored as SHA-256 digests, not signed tokens (JWT):
every use is checked against the database, so revoking a token, ending an account or
changing a person's role takes effect on the very next request, and there is no signing
key whose leak would let anyone mint tokens. The cost, one indexed lookup per request,
is small next to the queries the request makes anyway.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Row
from sqlmodel import Session

from app.auth.credentials import (
    ACCESS_PREFIX,
    PERSONAL_PREFIX,
    digest,
    display_prefix,
    new_secret,
    same,
)
from app.errors import DomainError, NotFound
from app.models import Account, ApiToken
from app.models.base import utcnow
from app.repositories import account as repo
from app.services import audit

ACCESS, PERSONAL = "access", "personal"
# The kinds that are bearer credentials for the API. A one-time set-password link
# (app.auth.links) is kept in the same table, as its own kind, and is never one of them.
BEARER_KINDS = (ACCESS, PERSONAL)
USER_SCOPES = ("read", "write")
# The longest a personal access token may last; every one expires.
MAX_PERSONAL_DAYS = 365
# How stale `last_used_at` may get before a request refreshes it (saves a write per call).
TOUCH_EVERY = timedelta(minutes=5)


def _issue(
    session: Session,
    account: Account,
    *,
    kind: str,
    scopes: tuple[str, ...],
    expires_at: datetime | None,
    name: str = "",
) -> tuple[str, ApiToken]:
    secret = new_secret(ACCESS_PREFIX if kind == ACCESS else PERSONAL_PREFIX)
    assert account.id is not None
    token = ApiToken(
        account_id=account.id,
        kind=kind,
        name=name,
        token_hash=digest(secret),
        prefix=display_prefix(secret),
        scopes=" ".join(scopes),
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return secret, token


def issue_access_token(
    session: Session, account: Account, *, minutes: int, scopes: tuple[str, ...] = USER_SCOPES
) -> tuple[str, ApiToken]:
    """The password flow's token: it expires after `minutes` (settings.token_minutes)."""
    return _issue(
        session, account, kind=ACCESS, scopes=scopes,
        expires_at=utcnow() + timedelta(minutes=minutes),
    )


def audit_issued(
    session: Session, token: ApiToken, *, actor_id: int | None, address: str | None = None
) -> None:
    """Audit a token the password flow issued (`token.create`; `auth.login` records the
    sign-in itself). Test credentials minted in code are not audited."""
    audit.record(
        session, action="token.create", entity="api_token", entity_id=token.id,
        actor_id=actor_id,
        after={"account_id": token.account_id, "kind": token.kind, "scopes": token.scopes,
               "prefix": token.prefix, "expires_at": token.expires_at, "address": address},
    )


def create_personal_token(
    session: Session,
    account: Account,
    *,
    name: str,
    scopes: tuple[str, ...],
    expires_in_days: int,
    actor_id: int | None,
) -> tuple[str, ApiToken]:
    """A token for an integration; shown once, stored as a digest, revocable, and always
    expiring (at most `MAX_PERSONAL_DAYS` days): a forgotten integration stops by itself."""
    if not 1 <= expires_in_days <= MAX_PERSONAL_DAYS:
        raise DomainError(f"a personal token lasts 1 to {MAX_PERSONAL_DAYS} days",
                          field="expires_in_days")
    expires_at = utcnow() + timedelta(days=expires_in_days)
    secret, token = _issue(
        session, account, kind=PERSONAL, scopes=scopes, expires_at=expires_at, name=name
    )
    audit.record(
        session, action="token.create", entity="api_token", entity_id=token.id,
        actor_id=actor_id,
        after={"account_id": account.id, "name": name, "scopes": token.scopes,
               "prefix": token.prefix, "expires_at": expires_at},
    )
    return secret, token


def revoke(
    session: Session, token: ApiToken, *, actor_id: int | None, reason: str = "revoked"
) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
        audit.record(
            session, action="token.revoke", entity="api_token", entity_id=token.id,
            actor_id=actor_id,
            after={"account_id": token.account_id, "kind": token.kind, "reason": reason},
        )
    return token


def revoke_personal_token(
    session: Session, *, account_id: int, token_id: int, actor_id: int | None
) -> ApiToken:
    """Revoke one of the account's own personal tokens (someone else's is 'not found')."""
    token = repo.token(session, token_id)
    if token is None or token.account_id != account_id or token.kind != PERSONAL:
        raise NotFound("token", token_id, field=["path", "token_id"])
    return revoke(session, token, actor_id=actor_id)


def revoke_all(session: Session, account_id: int, *, actor_id: int | None, reason: str,
               kinds: tuple[str, ...] = BEARER_KINDS) -> int:
    """Revoke every live bearer token of the account (each audited, with the reason)."""
    count = 0
    for token in repo.live_tokens(session, account_id):
        if token.kind in kinds:
            revoke(session, token, actor_id=actor_id, reason=reason)
            count += 1
    return count


def is_live(token: ApiToken | Row[Any], now: datetime) -> bool:
    if token.revoked_at is not None:
        return False
    return token.expires_at is None or token.expires_at > now


def resolve(session: Session, secret: str, now: datetime | None = None) -> Row[Any] | None:
    """The live token behind a presented bearer string, read with its account and person
    in one statement (`repository.token_holder`), or None."""
    if not secret.startswith((ACCESS_PREFIX, PERSONAL_PREFIX)) or len(secret) > 200:
        return None
    hashed = digest(secret)
    found = repo.token_holder(session, hashed)
    now = now or utcnow()
    if found is None or not same(found.token_hash, hashed) or not is_live(found, now):
        return None
    if found.kind not in BEARER_KINDS:  # a set-password link never opens the API
        return None
    if found.last_used_at is None or now - found.last_used_at > TOUCH_EVERY:
        repo.touch_token(session, found.token_id, now)
    return found


def scopes_of(token: ApiToken | Row[Any]) -> frozenset[str]:
    return frozenset(token.scopes.split())


def revoke_calendar_feeds(
    session: Session, staff_id: int, *, actor_id: int | None, reason: str
) -> int:
    """Retire every live calendar feed URL of this person (each audited, with the reason).

    The feed is a credential too: it shows the person's schedule to whoever holds the
    URL, so it ends with their account, a password reset and a change of role."""
    now = utcnow()
    rows = repo.live_calendar_tokens(session, staff_id)
    for row in rows:
        row.revoked_at = now
        session.flush()
        audit.record(
            session, action="calendar_token.revoke", entity="calendar_token", entity_id=row.id,
            actor_id=actor_id, nqsw_id=staff_id, after={"staff_id": staff_id, "reason": reason},
        )
    return len(rows)
