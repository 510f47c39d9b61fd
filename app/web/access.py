"""Which NQSWs a page may show to whom (page-side scope; the API's rules live in app.auth)."""

from __future__ import annotations

from sqlmodel import Session

from app.errors import NotFound
from app.models import Staff
from app.web import queries
from app.web.identity import principal_of
from app.web.viewer import Viewer


def can_see_nqsw(session: Session, viewer: Viewer, nqsw: Staff) -> bool:
    """Asks app.auth (the one place scope is decided) when the viewer signed in."""
    principal = principal_of(viewer)
    if principal is not None:
        from app.auth.subjects import staff_subject
        from app.clock import today

        subject = staff_subject(session, nqsw.id or 0, today())
        return subject is not None and bool(principal.can_see(subject))
    if viewer.role in ("asye_coordinator", "admin"):
        return True
    if viewer.staff_id is not None and nqsw.id == viewer.staff_id:
        return True
    if viewer.role == "nqsw":
        return False
    if viewer.role == "advanced_practitioner":
        enrolment = queries.latest_enrolment(session, nqsw.id or 0)
        return enrolment is not None and enrolment.advanced_practitioner_id == viewer.staff_id
    teams = queries.visible_team_ids(session, viewer)
    return teams is None or (nqsw.team_id is not None and nqsw.team_id in teams)


def nqsw_for(session: Session, viewer: Viewer, staff_id: int) -> Staff:
    """The NQSW if this person may see them; otherwise a 404, so existence is not leaked."""
    staff = session.get(Staff, staff_id)
    if staff is None or not can_see_nqsw(session, viewer, staff):
        raise NotFound("NQSW", staff_id)
    return staff
