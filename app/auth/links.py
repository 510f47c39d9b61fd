"""One-time set-password links: how a person chooses their own password when an admin
creates or resets their account.

An admin never types, sees or sends anyone's password: a password an admin knew would let
them sign in as a team manager or an NQSW and reach casework the admin role is kept away
from. Instead the account holder is emailed (through the outbox) a link that opens a page
where they choose their own password. The link:

- is 256 random bits, stored only as its SHA-256 digest, in the `api_token` table as its
  own kind (`set_password`), which is never accepted as a bearer token;
- works once, and for `set_password_link_hours` (24 by default);
- is withdrawn by a newer link, by a password set any other way, and by switching the
  account off.

Issuing, using and refusing a link are audited (`account.password_link_issue`, `_use`,
`_refuse`, `_withdraw`), and so is the email's recipient, never the link itself. The
email tells the holder who asked, so a reset they did not expect is noticed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlmodel import Session

from app.auth.credentials import digest, new_secret, same
from app.auth.principal import Principal
from app.models import Account, ApiToken, OutboxMessage
from app.models.base import utcnow
from app.repositories import account as repo
from app.repositories import audit as audit_rows
from app.repositories import staff as staff_repo
from app.services import audit
from app.settings import Settings

KIND = "set_password"
PREFIX = "rfl_"
ENTITY = "set_password_link"
# Why a link was sent (kept in the row's `name`): the email and the page word it so.
CREATED, RESET = "account_created", "password_reset"
PATH = "/set-password/"


class Status(StrEnum):
    USABLE = "usable"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Found:
    """A link as presented: its row and account when known, and whether it can be used."""

    status: Status
    row: ApiToken | None = None
    account: Account | None = None

    @property
    def purpose(self) -> str:
        return self.row.name if self.row is not None else CREATED


def look_up(session: Session, secret: str, now: datetime | None = None) -> Found:
    """What the link behind `secret` is, without changing anything (opening the page, or
    a mail scanner fetching it, must not use it up)."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return Found(Status.UNKNOWN)
    hashed = digest(secret)
    row = repo.token_by_hash(session, hashed)
    if row is None or row.kind != KIND or not same(row.token_hash, hashed):
        return Found(Status.UNKNOWN)
    account = repo.account(session, row.account_id)
    now = now or utcnow()
    if row.last_used_at is not None:
        return Found(Status.USED, row, account)
    if row.revoked_at is not None or account is None:
        return Found(Status.WITHDRAWN, row, account)
    if row.expires_at is None or row.expires_at <= now:
        return Found(Status.EXPIRED, row, account)
    return Found(Status.USABLE, row, account)


def url(settings: Settings, secret: str) -> str:
    return f"{settings.base_url.rstrip('/')}{PATH}{secret}"


def issue(
    session: Session,
    account: Account,
    *,
    purpose: str,
    requested_by: Principal | None,
    settings: Settings,
) -> ApiToken:
    """A new link for the account, emailed to its holder; any earlier link stops working.

    `requested_by` is the admin who asked (None: an operator at the server's command
    line). The secret exists only in the email: the caller gets the row, never the link.
    """
    assert account.id is not None
    actor_id = requested_by.staff_id if requested_by is not None else None
    withdraw(session, account.id, actor_id=actor_id, reason="superseded")
    now = utcnow()
    secret = new_secret(PREFIX)
    row = ApiToken(
        account_id=account.id, kind=KIND, name=purpose, token_hash=digest(secret),
        prefix=PREFIX, scopes="", created_at=now,
        expires_at=now + timedelta(hours=settings.set_password_link_hours),
    )
    session.add(row)
    session.flush()
    asker = _asker(requested_by)
    expires_at = row.expires_at
    assert expires_at is not None
    queue_email(
        session, account, settings,
        kind="account.password_link",
        subject=("Choose your password for Ringfence" if purpose == CREATED
                 else "Your Ringfence password has been reset"),
        context={
            "reset": purpose == RESET,
            "link": url(settings, secret),
            "hours": settings.set_password_link_hours,
            "expires": local_time(expires_at, settings),
            "asked_at": local_time(now, settings),
            "asked_by": asker,
            "email": account.email,
            "login": f"{settings.base_url.rstrip('/')}/login",
        },
    )
    audit.record(
        session, action="account.password_link_issue", entity=ENTITY, entity_id=row.id,
        actor_id=actor_id,
        after={"account_id": account.id, "purpose": purpose, "sent_to": account.email,
               "expires_at": expires_at, "requested_by": asker},
    )
    return row


def claim(session: Session, found: Found, *, address: str) -> bool:
    """Use the link up, atomically: of two requests racing with the same link only one
    gets True (the row is changed only while it is still unused). Audited when claimed."""
    assert found.row is not None and found.account is not None
    now = utcnow()
    claimed = repo.claim_token(session, found.row.id, now)  # type: ignore[arg-type]
    session.expire(found.row)
    if not claimed:
        return False
    audit.record(
        session, action="account.password_link_use", entity=ENTITY, entity_id=found.row.id,
        actor_id=found.account.staff_id,
        after={"account_id": found.account.id, "purpose": found.row.name, "address": address},
    )
    return True


def refuse(session: Session, found: Found, *, address: str) -> None:
    """Audit that a known link was presented and could not be used (expired, used,
    withdrawn), once per link and reason: reloading the page does not fill the trail. A
    secret that names no link is not audited: there is no account to tell about it."""
    if found.row is None or found.status is Status.USABLE:
        return
    earlier = audit_rows.effects_of(session, action="account.password_link_refuse",
                                    entity=ENTITY, entity_ids=[str(found.row.id)])
    if any(isinstance(after, dict) and after.get("reason") == found.status.value
           for _, _, after in earlier):
        return
    audit.record(
        session, action="account.password_link_refuse", entity=ENTITY, entity_id=found.row.id,
        after={"account_id": found.row.account_id, "reason": found.status.value,
               "address": address},
    )


def withdraw(session: Session, account_id: int, *, actor_id: int | None, reason: str) -> int:
    """Stop every link of the account that is not used yet (each audited, with why)."""
    rows = repo.live_links(session, account_id, KIND)
    now = utcnow()
    for row in rows:
        row.revoked_at = now
        session.flush()
        audit.record(
            session, action="account.password_link_withdraw", entity=ENTITY, entity_id=row.id,
            actor_id=actor_id, after={"account_id": account_id, "reason": reason},
        )
    return len(rows)


def queue_email(
    session: Session, account: Account, settings: Settings, *, kind: str, subject: str,
    context: dict[str, Any],
) -> OutboxMessage:
    """An email to the account holder, queued in the outbox with the change that caused
    it (sent by the outbox's delivery run, never inside the request)."""
    from app.services.notify import render_email

    staff = staff_repo.person(session, account.staff_id)
    rendered = render_email(kind, subject, {
        **context, "recipient": {"id": account.staff_id, "name": staff.name if staff else None},
    }, settings)
    message = OutboxMessage(
        recipient_id=account.staff_id, to_address=account.email, subject=rendered.subject,
        text=rendered.text, html=rendered.html,
    )
    session.add(message)
    session.flush()
    return message


def local_time(moment: datetime, settings: Settings) -> str:
    """`14:05 on 3 March 2026`, in the organisation's time zone."""
    local = moment.astimezone(settings.tz)
    return f"{local:%H:%M} on {local.day} {local:%B %Y}"


def _asker(requested_by: Principal | None) -> str:
    if requested_by is None:
        return "the service's operator, at the server's command line"
    if requested_by.email and requested_by.name != requested_by.email:
        return f"{requested_by.name} ({requested_by.email})"
    return requested_by.email or "an administrator"
