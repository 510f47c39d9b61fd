"""Which buttons, forms and links a page offers, read from the page access table.

The pages offer exactly what the page guard would then accept from the same person (and
the page table takes its action rules from the API's, app/auth/page_access.py), so a
button is never shown that the service would refuse, and the rules live in one place.
These are presentation decisions only: the guard enforces the table whatever is shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.auth.page_access import PAGE_ACCESS
from app.auth.rules import Grant

if TYPE_CHECKING:
    from app.web.viewer import Viewer

BOOK = "POST /nqsws/{staff_id}/diary"
MOVE = "POST /nqsws/{staff_id}/diary/{entry_id}/move"
TAKE = "POST /nqsws/{staff_id}/diary/{entry_id}/taken"
CANCEL = "POST /nqsws/{staff_id}/diary/{entry_id}/cancel"
RECORD_SUPERVISION = "POST /nqsws/{staff_id}/supervision"
CANCEL_SUPERVISION = "POST /nqsws/{staff_id}/supervision/{session_id}/cancel"
RECORD_REVIEW = "POST /nqsws/{staff_id}/reviews"
PAUSE = "POST /nqsws/{staff_id}/programme/pause"
RESUME = "POST /nqsws/{staff_id}/programme/resume"
SIGN_OFF = "POST /nqsws/{staff_id}/programme/sign-off"
ACKNOWLEDGE = "POST /breaches/{breach_id}/acknowledge"
GRANT_EXCEPTION = "POST /breaches/{breach_id}/exception"
NQSW_LIST = "GET /nqsws"
ALLOCATE = "GET /allocate"
DASHBOARD = "GET /breaches"
ENROL = "GET /enrolments/new"


def role_may(role: str | None, key: str) -> bool:
    """Whether the table lets this role use the page at all (for the navigation)."""
    rule = PAGE_ACCESS.get(key)
    return rule is not None and (rule.public or rule.grant_for(role) is not None)


def may(viewer: Viewer, key: str, staff_id: int | None) -> bool:
    """True when the page table lets this person do `key` to this NQSW's records.

    `SCOPE` is satisfied because the page showing the button was itself only served for
    records within reach; `SELF` needs the NQSW to be the person themselves. Every action
    also needs a staff record, since the change is recorded in someone's name.
    """
    rule = PAGE_ACCESS.get(key)
    grant = rule.grant_for(viewer.role) if rule is not None else None
    if grant is None or viewer.staff_id is None:
        return False
    if grant == Grant.SELF:
        return staff_id is not None and viewer.staff_id == staff_id
    return True
