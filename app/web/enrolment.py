"""Enrolling a member of staff on a programme: the ASYE coordinator's form.

The form asks what the API's `POST /api/v1/enrolments` takes (the person, the programme,
its start date, and optionally their assessor and advanced practitioner) and calls the
same service, so the checks are the same: a person already on a programme, a start
before they joined or after they left, an assessor who is an NQSW are refused, said
beside the question. Who may enrol is the API's rule, applied by the page access table
(app/auth/page_access.py). On success the NQSW's programme page says so.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.clock import today
from app.db import SessionDep
from app.models import Enrolment, Staff
from app.models.base import Programme, Role
from app.repositories import staff as staff_repo
from app.schemas.enrolment import EnrolmentCreate
from app.services import enrolments
from app.web import outcome
from app.web.deps import PoliciesDep, ViewerDep
from app.web.forms import FormErrors
from app.web.submit import Questions, again, submit
from app.web.templating import render
from app.web.viewer import Viewer

router = APIRouter()

PROGRAMMES = [(Programme.asye.value, "ASYE: the Assessed and Supported Year in Employment "
                                     "(12 months)"),
              (Programme.swip.value, "SWIP: the Social Work Induction Programme (24 months)")]
LABELS = {"staff_id": "The member of staff", "programme": "The programme",
          "start_date": "The programme's start date", "assessor_id": "Their assessor",
          "advanced_practitioner_id": "Their advanced practitioner"}
# Who may be enrolled: qualified social workers, and NQSWs whose programme has ended
# (the service refuses anyone whose programme is still open).
ENROLLABLE = (Role.social_worker.value, Role.nqsw.value)
ENROL = Questions(EnrolmentCreate, LABELS,
                  {"staff_id", "programme", "assessor_id", "advanced_practitioner_id"})


def _choices(people: list[Staff]) -> list[tuple[str, str]]:
    return [(str(p.id), p.name) for p in people]


def enrol_page(
    request: Request, session: Session, viewer: Viewer, *,
    values: dict[str, Any] | None = None, errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    candidates = staff_repo.current_with_roles(session, ENROLLABLE)
    assessors = staff_repo.current_with_roles(
        session, [r.value for r in Role if r.value not in (Role.nqsw.value, Role.admin.value)])
    aps = staff_repo.current_with_roles(session, [Role.advanced_practitioner.value])
    return render(request, "pages/enrol.html", {
        "title": "Enrol a member of staff",
        "nav_key": "nqsws",
        "candidates": _choices(candidates),
        "programmes": PROGRAMMES,
        "assessors": _choices(assessors),
        "aps": _choices(aps),
        "values": {"programme": Programme.asye.value, "start_date": today().isoformat(),
                   **(values or {})},
        "errors": errors or FormErrors(),
    }, status_code=status_code)


@router.get("/enrolments/new", include_in_schema=False)
def enrol_form(request: Request, session: SessionDep, viewer: ViewerDep) -> Response:
    return enrol_page(request, session, viewer)


@router.post("/enrolments/new", include_in_schema=False)
async def enrol(
    request: Request, session: SessionDep, viewer: ViewerDep, policies: PoliciesDep,
) -> Response:
    """Enrol the person; their caseload is checked against the programme from today."""
    on = today()

    def done(enrolment: Enrolment) -> str:
        return outcome.done_url(f"/nqsws/{enrolment.staff_id}/programme", "enrolled",
                                enrolment.start_date)

    def act(form: EnrolmentCreate) -> Enrolment:
        return enrolments.enrol(session=session, data=form, on=on, policies=policies,
                                actor_id=viewer.staff_id)

    return await submit(request, session, ENROL, act=act, done=done,
                        page=again(enrol_page, request, session, viewer))



