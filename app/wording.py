"""Small pieces of English shared by messages: the service speaks to people, not parsers.

What people read (pages, in-app notifications, emails) never shows the names the code
uses: a role is "team manager", not `team_manager`; a rule is its title, not its id; a
date is "3 November 2026", not 2026-11-03; a yes-or-no fact is "Yes" or "No".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

# Roles (of staff, and on a case) as a sentence says them.
ROLE_WORDS: dict[str, str] = {
    "nqsw": "NQSW",
    "advanced_practitioner": "advanced practitioner",
    "social_worker": "social worker",
    "team_manager": "team manager",
    "senior_manager": "senior manager",
    "asye_coordinator": "ASYE coordinator",
    "admin": "administrator",
    "holder": "case holder",
    "co_worker": "co-worker",
}
ISO_DATE = re.compile(r"(?<![\d/=-])(\d{4})-(\d{2})-(\d{2})(?![\d-])")
ROLE_CODE = re.compile(r"\b(" + "|".join(k for k in ROLE_WORDS if "_" in k) + r")\b")
# Values that are addresses, not prose: their dates and words stay as they are.
NOT_PROSE = ("link", "base_url", "login", "url", "href")

# What each fact in a finding's evidence is, for people: the protected-time, caseload and
# supervision rules record these (app/policy/rules).
EVIDENCE_LABELS: dict[str, str] = {
    "as_of": "As of",
    "day_hours": "Hours in a working day",
    "entitlement_hours": "Protected time for the programme (hours)",
    "entitlement_days": "Protected time for the programme (days)",
    "accrued_hours": "Protected time earned so far (hours)",
    "taken_hours": "Protected time taken (hours)",
    "booked_hours": "Protected time booked ahead (hours)",
    "lapsed_hours": "Past bookings not marked taken (hours)",
    "remaining_hours": "Protected time still to take (hours)",
    "unbooked_hours": "Protected time not yet booked (hours)",
    "provisional": "Provisional (a pause is still open)",
    "programme_weeks": "Weeks into the programme",
    "weeks_completed": "Weeks into this year",
    "working_days_waiting": "Working days waiting",
    "measured": "Measured",
    "limit": "Limit",
}


def a_role(role: str) -> str:
    """"a team manager", "an advanced practitioner", "an administrator"."""
    words = role_words(role)
    return f"{'an' if words[:1].lower() in 'aeiou' else 'a'} {words}"


def role_words(role: object) -> str:
    """`team_manager` -> "team manager", as it reads in the middle of a sentence."""
    code = str(getattr(role, "value", role))
    return ROLE_WORDS.get(code, code.replace("_", " "))


def long_date(value: date | datetime | str) -> str:
    """3 November 2026 (GOV.UK style); a string that is not an ISO date is returned as is."""
    if isinstance(value, str):
        if not ISO_DATE.fullmatch(value[:10]):
            return value
        try:
            day = date.fromisoformat(value[:10])
        except ValueError:
            return value
    else:
        day = value.date() if isinstance(value, datetime) else value
    return f"{day.day} {day:%B %Y}"


def rule_words(rule_id: str, title: str | None = None) -> str:
    """A rule as people know it: its title, or its id read as words ("Caseload cap")."""
    if title:
        return title
    words = re.sub(r"[-_.]+", " ", rule_id).strip()
    return words[:1].upper() + words[1:]


def plain(text: str, rules: Mapping[str, str] | None = None) -> str:
    """Prose with the code's names put into words: ISO dates as long dates, role codes as
    roles and each rule id in `rules` (id -> title) as its title."""

    def spelled(match: re.Match[str]) -> str:
        try:
            return long_date(date(int(match[1]), int(match[2]), int(match[3])))
        except ValueError:
            return match[0]

    for rule_id, title in (rules or {}).items():
        if rule_id:
            text = re.sub(rf"(?<![\w-]){re.escape(rule_id)}(?![\w-])", title, text)
    text = ISO_DATE.sub(spelled, text)
    return ROLE_CODE.sub(lambda m: ROLE_WORDS[m[1]], text)


def _in_words(key: str, value: Any, rules: Mapping[str, str]) -> Any:
    if key in NOT_PROSE or key.endswith(("_url", "_link")):
        return value
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (date, datetime)):
        return long_date(value)
    if isinstance(value, str):
        if value.startswith(("http://", "https://", "/")):
            return value
        if value in ROLE_WORDS:
            return ROLE_WORDS[value]
        return plain(value, rules)
    if isinstance(value, Mapping):
        return {k: _in_words(str(k), v, rules) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_in_words(key, v, rules) for v in value]
    return value


def message_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """An email's or notification's values as people read them: dates in long form,
    roles in words, and the rule's title (its id put into words when it has none) in
    place of its id, so a template falling back to `rule_id` never shows it."""
    rule_id = values.get("rule_id")
    rules: dict[str, str] = {}
    out = dict(values)
    if isinstance(rule_id, str) and rule_id:
        title = rule_words(rule_id, values.get("rule_title") or None)
        rules[rule_id] = title
        out["rule_title"] = title
    for key, value in values.items():
        if key in ("rule_id", "policy_id", "rule_title", "recipient", "subject"):
            continue
        out[key] = _in_words(key, value, rules)
    return out


def message_subject(subject: str, values: Mapping[str, Any]) -> str:
    """A subject as people read it: the rule's title in place of its id, dates in words."""
    rule_id = values.get("rule_id")
    rules = ({rule_id: rule_words(rule_id, values.get("rule_title") or None)}
             if isinstance(rule_id, str) and rule_id else {})
    return plain(subject, rules)


def evidence_rows(details: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A finding's evidence as (what, value) lines for people: labels in words, yes or
    no for a fact that is true or false, dates in long form. Nested parts are left out
    (the page shows their own lines)."""
    rows = []
    for key, value in details.items():
        if isinstance(value, (Mapping, list, tuple)) or value is None:
            continue
        label = EVIDENCE_LABELS.get(key) or rule_words(str(key))
        if isinstance(value, bool):
            shown = "Yes" if value else "No"
        elif isinstance(value, float):
            shown = f"{value:g}" if value.is_integer() else f"{value:.2f}".rstrip("0")
        elif isinstance(value, (date, datetime)) or (
                isinstance(value, str) and ISO_DATE.fullmatch(value)):
            shown = long_date(value)
        else:
            shown = plain(str(value))
        rows.append((label, shown))
    return rows
