"""Password hashing with Argon2id (pwdlib), and the rules a new password must meet.

Verifying against a dummy hash when there is no account makes a wrong email cost as much
time as a wrong password, so response times do not reveal who has an account.
"""

from __future__ import annotations

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.errors import DomainError

MIN_LENGTH = 12
MAX_LENGTH = 1024
# Published in the documentation for the demo sign-ins: never anyone's real password.
PUBLISHED = frozenset({"ringfence-demo"})

_hasher = PasswordHash((Argon2Hasher(),))
_DUMMY_HASH = _hasher.hash("ringfence: no such account, compare anyway")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """Whether `password` matches, and a fresh hash when the stored one uses old parameters.

    A missing hash is checked against a dummy so that the time taken is the same.
    """
    if not password_hash:
        _hasher.verify(password, _DUMMY_HASH)
        return False, None
    try:
        return _hasher.verify_and_update(password, password_hash)
    except Exception:  # an unreadable stored hash never lets anyone in
        return False, None


def check_new_password(password: str, *, email: str | None = None, field: str = "password") -> None:
    """Length is what protects a password; refuse the short and the obvious."""
    if len(password) < MIN_LENGTH:
        raise DomainError(f"a password needs at least {MIN_LENGTH} characters", field=field)
    if len(password) > MAX_LENGTH:
        raise DomainError(f"a password has at most {MAX_LENGTH} characters", field=field)
    if len(set(password)) < 4:
        raise DomainError("a password needs more than a few different characters", field=field)
    if email and email.split("@", 1)[0].lower() in password.lower():
        raise DomainError("a password must not contain the sign-in name", field=field)
    if password in PUBLISHED:
        raise DomainError("this password is published in the documentation: choose another",
                          field=field)
