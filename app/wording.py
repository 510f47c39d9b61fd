"""Small pieces of English shared by messages: the service speaks to people, not parsers."""

from __future__ import annotations


def a_role(role: str) -> str:
    """"a team manager", "an advanced practitioner", "an admin"."""
    words = role.replace("_", " ")
    return f"{'an' if words[:1] in 'aeiou' else 'a'} {words}"
