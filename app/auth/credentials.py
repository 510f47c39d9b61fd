"""Random secrets and their digests: what tokens, session ids and CSRF tokens are made of.

Tokens are 256 random bits, so a fast SHA-256 digest is enough to store them (nobody can
guess one to test against the digest), and the digest can be looked up by index.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ACCESS_PREFIX = "rfa_"
PERSONAL_PREFIX = "rfp_"
DISPLAY_PREFIX_LENGTH = 10


def new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    """Constant-time equality, so that comparing a guess leaks nothing through timing."""
    if a is None or b is None:
        return False
    return hmac.compare_digest(
        a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")
    )


def display_prefix(secret: str) -> str:
    return secret[:DISPLAY_PREFIX_LENGTH]
