"""What a person may do to one NQSW's records from a page, read from the API's access table.

The pages offer exactly the actions the API would accept from the same person, so a
button is never shown that the service would then refuse, and the rules live in one
place (app.auth.access_table). Reach (is this NQSW in the person's team, area, ...) is
already settled when a page loads the NQSW through `access.nqsw_for`.
"""

from __future__ import annotations

from app.auth.access_table import ACCESS
from app.auth.rules import Grant
from app.web.viewer import Viewer

BOOK = "POST /api/v1/nqsws/{staff_id}/diary"
MOVE = "POST /api/v1/nqsws/{staff_id}/diary/{entry_id}/move"
TAKE = "POST /api/v1/nqsws/{staff_id}/diary/{entry_id}/taken"
CANCEL = "POST /api/v1/nqsws/{staff_id}/diary/{entry_id}/cancel"
RECORD_SUPERVISION = "POST /api/v1/nqsws/{staff_id}/supervision"
CANCEL_SUPERVISION = "POST /api/v1/nqsws/{staff_id}/supervision/{session_id}/cancel"
RECORD_REVIEW = "POST /api/v1/nqsws/{staff_id}/reviews"
PAUSE = "POST /api/v1/nqsws/{staff_id}/pause"
RESUME = "POST /api/v1/nqsws/{staff_id}/resume"
SIGN_OFF = "POST /api/v1/nqsws/{staff_id}/sign-offs"


def may(viewer: Viewer, route: str, staff_id: int) -> bool:
    """True when the access table lets this person's role call `route` for this NQSW.

    `SCOPE` is satisfied because the page only loads NQSWs within reach; `SELF` needs
    the NQSW to be the person themselves. Every action also needs a staff record, since
    the change is recorded in someone's name.
    """
    rule = ACCESS.get(route)
    grant = rule.grant_for(viewer.role) if rule is not None else None
    if grant is None or viewer.staff_id is None:
        return False
    if grant == Grant.SELF:
        return viewer.staff_id == staff_id
    return True
