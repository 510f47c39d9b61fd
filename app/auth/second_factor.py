"""A second factor at password sign-in: a code from an authenticator app (TOTP, RFC 6238),
or one of ten one-time recovery codes.

**Codes.** Six digits, 30-second steps; a code from one step before or after the server's
clock is accepted (phones drift), and the step of every accepted code is remembered per
account, so a code (or an older one) is never accepted twice: an onlooker who reads a code
cannot reuse it. Recovery codes are stored as Argon2 hashes like passwords and are
usable once each.

**Who must have one.** In production mode the roles in `require_second_factor_roles`
(admins and senior managers by default) cannot finish a password sign-in without one:
with none set up yet they are taken to set it up, and get a session only once it is
confirmed. Anyone may set one up; once set up it is always asked for. Single sign-on is
not built; `required` takes `via_single_sign_on` so that, when it is, the identity
provider's own second factor counts instead.

**Guessing.** Wrong codes are throttled like passwords (app.auth.throttle), counted under
their own name (`second-factor:` and the sign-in name), so a correct password does not
wipe out the count of wrong codes that followed it.

**Between password and code** the browser holds a short-lived pending ticket, a value
signed with the service's secret key naming the account and what is still owed (the code,
or setting one up), tied to the account's password hash so that a password change voids it.
It is never a session: nothing but the code form and the set-up page accept it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

import pyotp
from sqlmodel import Session

from app.auth import passwords, throttle
from app.models import Account, RecoveryCode
from app.models.base import utcnow
from app.repositories import second_factor as repo
from app.repositories import staff as staff_repo
from app.services import audit
from app.settings import Settings

ISSUER = "Ringfence"
STEP_SECONDS = 30
# Codes from this many steps either side of the server's clock are accepted.
SKEW_STEPS = 1
RECOVERY_CODES = 10
# How long the pending ticket between password and code lasts.
PENDING_SECONDS = 5 * 60
PENDING_COOKIE = "ringfence_pending"
CODE = "code"  # a ticket owing a code
SET_UP = "set_up"  # a ticket owing the setting up of a second factor
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def throttle_name(email: str) -> str:
    return f"second-factor:{email}"[:320]


def has_second_factor(account: Account) -> bool:
    return account.totp_secret is not None and account.totp_confirmed_at is not None


def required(
    session: Session, account: Account, settings: Settings, *, via_single_sign_on: bool = False
) -> bool:
    """Must this account use a second factor? Whoever has one set up always uses it; in
    production mode the configured roles must have one. A sign-in through single sign-on
    (not built yet) relies on the identity provider's own second factor instead."""
    if via_single_sign_on:
        return False
    if has_second_factor(account):
        return True
    if settings.mode != "production" or not settings.require_second_factor:
        return False
    person = staff_repo.person(session, account.staff_id)
    return person is not None and person.role in settings.require_second_factor_roles


# ---- setting it up ----------------------------------------------------------------------


def begin_set_up(session: Session, account: Account) -> str:
    """The secret to show for setting up: a new one unless one is already waiting to be
    confirmed (so reloading the page does not invalidate what the app has scanned)."""
    if account.totp_secret is None or account.totp_confirmed_at is not None:
        account.totp_secret = pyotp.random_base32()
        account.totp_confirmed_at = None
        account.totp_last_step = None
        session.flush()
    return account.totp_secret


def provisioning_uri(account: Account) -> str:
    assert account.totp_secret is not None
    return pyotp.TOTP(account.totp_secret).provisioning_uri(name=account.email,
                                                            issuer_name=ISSUER)


def confirm_set_up(
    session: Session, account: Account, code: str, *, address: str, now: float | None = None
) -> tuple[bool, list[str], int]:
    """Confirm the secret with a first code. Returns (confirmed, the recovery codes to
    show once, seconds to wait when throttled)."""
    verdict = throttle.check(session, email=throttle_name(account.email), address=address)
    if not verdict.allowed:
        _audit_refusal(session, account, "throttled", address)
        return False, [], verdict.retry_after
    step = _matching_step(account, code, now)
    if step is None:
        throttle.record(session, email=throttle_name(account.email), address=address,
                        succeeded=False)
        _audit_refusal(session, account, "wrong_code_at_set_up", address)
        return False, [], 0
    throttle.record(session, email=throttle_name(account.email), address=address,
                    succeeded=True)
    account.totp_confirmed_at = utcnow()
    account.totp_last_step = step
    codes = new_recovery_codes(session, account)
    audit.record(session, action="auth.second_factor_set_up", entity="account",
                 entity_id=account.id, actor_id=account.staff_id,
                 after={"address": address, "recovery_codes": len(codes)})
    return True, codes, 0


def new_recovery_codes(session: Session, account: Account) -> list[str]:
    """Ten fresh recovery codes replacing any earlier ones; only their hashes are kept."""
    assert account.id is not None
    repo.remove_codes(session, account.id)
    codes = ["-".join("".join(secrets.choice(_ALPHABET) for _ in range(5)) for _ in range(2))
             for _ in range(RECOVERY_CODES)]
    for code in codes:
        session.add(RecoveryCode(account_id=account.id,
                                 code_hash=passwords.hash_password(code.replace("-", ""))))
    session.flush()
    return codes


def remove(session: Session, account: Account, *, actor_id: int | None) -> None:
    """Take the second factor off an account (a lost phone and lost recovery codes); a
    role that must have one is asked to set it up again at the next sign-in."""
    assert account.id is not None
    account.totp_secret = None
    account.totp_confirmed_at = None
    account.totp_last_step = None
    repo.remove_codes(session, account.id)
    session.flush()
    audit.record(session, action="auth.second_factor_removed", entity="account",
                 entity_id=account.id, actor_id=actor_id)


# ---- checking it --------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    ok: bool
    retry_after: int = 0
    # "code" (authenticator app) or "recovery_code", when ok.
    method: str | None = None

    @property
    def throttled(self) -> bool:
        return self.retry_after > 0


def check(
    session: Session, account: Account, code: str, *, address: str, now: float | None = None
) -> Check:
    """Is this the account's current code (or an unused recovery code)? Throttled and
    audited; a recovery code accepted is used up."""
    name = throttle_name(account.email)
    verdict = throttle.check(session, email=name, address=address)
    if not verdict.allowed:
        _audit_refusal(session, account, "throttled", address)
        return Check(ok=False, retry_after=verdict.retry_after)
    code = code.strip()
    step = _matching_step(account, code, now)
    method: str | None = None
    if step is not None:
        account.totp_last_step = step
        method = CODE
    elif _use_recovery_code(session, account, code):
        method = "recovery_code"
    if method is None:
        throttle.record(session, email=name, address=address, succeeded=False)
        _audit_refusal(session, account, "wrong_code", address)
        return Check(ok=False)
    throttle.record(session, email=name, address=address, succeeded=True)
    if method == "recovery_code":
        assert account.id is not None
        audit.record(session, action="auth.recovery_code_used", entity="account",
                     entity_id=account.id, actor_id=account.staff_id,
                     after={"address": address,
                            "left": len(repo.unused_codes(session, account.id))})
    session.flush()
    return Check(ok=True, method=method)


def _matching_step(account: Account, code: str, now: float | None) -> int | None:
    """The time-step whose code this is, within the accepted skew and later than the last
    one accepted; None otherwise."""
    code = code.strip().replace(" ", "")
    if account.totp_secret is None or len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(account.totp_secret)
    moment = time.time() if now is None else now
    current = int(moment // STEP_SECONDS)
    for step in range(current - SKEW_STEPS, current + SKEW_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            if account.totp_last_step is not None and step <= account.totp_last_step:
                return None  # already used (or older than one used): never twice
            return step
    return None


def _use_recovery_code(session: Session, account: Account, code: str) -> bool:
    code = code.strip().lower().replace(" ", "").replace("-", "")
    if account.id is None or len(code) != 10:
        return False
    for row in repo.unused_codes(session, account.id):
        if passwords.verify_password(code, row.code_hash)[0]:
            row.used_at = utcnow()
            session.flush()
            return True
    return False


def _audit_refusal(session: Session, account: Account, reason: str, address: str) -> None:
    audit.record(session, action="auth.second_factor_refused", entity="account",
                 entity_id=account.id, actor_id=account.staff_id,
                 after={"address": address, "reason": reason})


# ---- the pending ticket between password and code ---------------------------------------


def _mac(settings: Settings, payload: str) -> str:
    key = settings.resolved_secret_key().encode()
    return hmac.new(key, b"second-factor:" + payload.encode(), hashlib.sha256).hexdigest()


def _password_tag(account: Account) -> str:
    return hashlib.sha256((account.password_hash or "").encode()).hexdigest()[:16]


def pending_ticket(account: Account, owes: str, settings: Settings,
                   now: datetime | None = None) -> str:
    expires = int((now or utcnow()).timestamp()) + PENDING_SECONDS
    payload = f"{account.id}.{owes}.{expires}.{_password_tag(account)}"
    raw = f"{payload}.{_mac(settings, payload)}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def read_ticket(session: Session, value: str | None, settings: Settings,
                now: datetime | None = None) -> tuple[Account, str] | None:
    """The account and what it still owes, for a genuine ticket that has not expired and
    whose account's password has not changed since; None otherwise."""
    from app.repositories import account as account_repo

    if not value or len(value) > 400:
        return None
    try:
        raw = base64.urlsafe_b64decode(value.encode()).decode()
        account_id, owes, expires, tag, mac = raw.split(".")
        payload = f"{account_id}.{owes}.{expires}.{tag}"
        if not hmac.compare_digest(mac, _mac(settings, payload)):
            return None
        if int(expires) < int((now or utcnow()).timestamp()):
            return None
        account = account_repo.account(session, int(account_id))
    except ValueError:
        return None
    if account is None or not account.is_active or not hmac.compare_digest(
            tag, _password_tag(account)) or owes not in (CODE, SET_UP):
        return None
    return account, owes
