"""Asking for an override of a firm limit, and deciding on it.

A team manager whose allocation a firm limit refuses, and who may not override that
limit themselves, asks someone who may (whom the policy names: by default the senior
manager of the NQSW's service area), giving their reason. That person is told (in the
app and by email), sees the request filled in, and approves or refuses it with their own
reason. Approving re-checks the allocation as it stands then and makes it through the
ordinary allocation path as the approver's own override, so the breach it opens records
the approver and their reason, exactly as if they had allocated it themselves. The
requester is told the decision. A request nobody decides lapses after the number of
working days `policies/overrides.toml` sets (`expire_due`, from the daily sweep).

Everything here flushes and never commits: one request, one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from app.auth.reach import Reach
from app.clock import now_utc, today
from app.errors import Conflict, DomainError, Forbidden, NotFound
from app.models import Staff
from app.models.override import OverrideRequest, OverrideRequestStatus
from app.policy.findings import Outcome
from app.policy.overrides import overrides_of
from app.repositories import case as case_repository
from app.repositories import override as request_rows
from app.repositories import staff as staff_repo
from app.repositories.account import allocations_in_reach
from app.services import allocation_judge, allocation_write, audit, notify
from app.services.allocation_checks import (
    check_conflicts,
    require_case,
    require_case_open,
    require_not_left,
    require_worker,
)
from app.services.allocation_types import Decision, OverrideNotAllowed
from app.services.escalation import coordinators, recipients_for
from app.services.override_reason import require_reason
from app.services.working_days import add_working_days
from app.settings import get_settings
from app.wording import a_role

if TYPE_CHECKING:
    from app.policy.registry import PolicySet

Status = OverrideRequestStatus


def role_words(roles: set[str] | list[str]) -> str:
    """"a senior manager", "a senior manager or an ASYE coordinator"."""
    words = [a_role(r).replace("asye", "ASYE") for r in sorted(roles)]
    return " or ".join(words) or "nobody"


def spoken_date(day: date) -> str:
    """"3 November 2026": how a date reads in an email."""
    return f"{day.day} {day:%B %Y}"


# --- judging the allocation a request is about --------------------------------------------


@dataclass(frozen=True)
class Judged:
    """An allocation as the engine judges it now, before anything is written."""

    decision: Decision
    case_reference: str
    worker: Staff

    @property
    def blocked(self) -> bool:
        return self.decision.outcome is Outcome.block

    @property
    def override_roles(self) -> set[str]:
        return self.decision.override_roles() if self.blocked else set()


def judge(
    session: Session, *, policies: PolicySet, case_id: int, worker_id: int, role: str,
    starts_on: date,
) -> Judged:
    """What the allocation write would check first (the case open, the worker in post, no
    overlap), then the engine's verdict over its period. Writes nothing."""
    case = require_case(session, case_id)
    worker = require_worker(session, worker_id, field="worker_id")
    require_case_open(case, starts_on)
    require_not_left(worker, starts_on, "worker_id")
    check_conflicts(session, case=case, worker_id=worker_id, role=role, start=starts_on,
                    end=None)
    decision = allocation_judge.check_allocation(
        session, policies=policies, case_id=case_id, worker_id=worker_id, role=role,
        on=starts_on)
    return Judged(decision, case.reference, worker)


def blocking_reasons(judged: Judged) -> list[str]:
    """What refuses the allocation, in the engine's words (dated when not its first day)."""
    return [judged.decision.dated_reason(f) for f in judged.decision.blocking]


# --- who is told, who decides --------------------------------------------------------------


def roles_of(row: OverrideRequest) -> set[str]:
    return {r for r in row.decider_roles.split(",") if r}


def deciders(session: Session, row: OverrideRequest) -> list[int]:
    """Who is asked: for each role that may override, the person in that role for the
    NQSW (the senior manager of their service area, their team manager), or everyone in
    post in it (ASYE coordinators, and any other role the policy names)."""
    roles = roles_of(row)
    found = recipients_for(session, [row.worker_id]).get(row.worker_id)
    ids: list[int] = []
    for role in sorted(roles):
        if role == "senior_manager":
            chosen = found.senior_manager_id if found else None
            ids += [chosen] if chosen else []
        elif role == "team_manager":
            chosen = found.team_manager_id if found else None
            ids += [chosen] if chosen else []
        elif role == "asye_coordinator":
            ids += coordinators(session)
        else:
            ids += staff_repo.ids_in_post_with_role(session, role)
    return [i for i in dict.fromkeys(ids) if i != row.requested_by_id]


def _context(session: Session, row: OverrideRequest, **extra: Any) -> dict[str, Any]:
    people = staff_repo.people_by_id(session, [row.worker_id, row.requested_by_id,
                                               row.decided_by_id])
    case = case_repository.case_by_id(session, row.case_id)
    worker = people.get(row.worker_id)
    decider = people.get(row.decided_by_id) if row.decided_by_id else None
    return {
        "request_id": row.id,
        "nqsw_name": worker.name if worker else "an NQSW",
        "case_reference": case.reference if case else str(row.case_id),
        "role_on_case": "named holder" if row.role == "holder" else "co-worker",
        "starts_on": spoken_date(row.starts_on),
        "requester_name": people[row.requested_by_id].name
        if row.requested_by_id in people else "a team manager",
        "reason": row.reason,
        "expires_on": spoken_date(row.expires_on),
        "decider_name": decider.name if decider else None,
        "decision_reason": row.decision_reason,
        "status": row.status,
        **extra,
    }


def _link(row: OverrideRequest) -> str:
    return f"{get_settings().base_url.rstrip('/')}/override-requests/{row.id}"


def _tell(session: Session, row: OverrideRequest, *, to: list[int], kind: str,
          subject: str, **extra: Any) -> None:
    notify.notify(session, recipient_ids=to, kind=kind, subject=subject,
                  context={**_context(session, row, **extra), "link": _link(row)},
                  nqsw_id=row.worker_id)


# --- asking ---------------------------------------------------------------------------------


def create_request(
    session: Session, *, policies: PolicySet, case_id: int, worker_id: int, role: str,
    starts_on: date, reason: str | None, requester_id: int | None,
) -> OverrideRequest:
    """Ask for an override: only for an allocation a firm limit refuses now, by someone
    who may not override it themselves, with a reason as long as the policy asks."""
    if requester_id is None:
        raise Forbidden("an override is asked for by a person signed in as themselves")
    requester = require_worker(session, requester_id, field=None)
    text = require_reason(policies, reason, field="reason")
    judged = judge(session, policies=policies, case_id=case_id, worker_id=worker_id,
                   role=role, starts_on=starts_on)
    if not judged.blocked:
        raise Conflict("no firm limit refuses this allocation: allocate it directly "
                       "(a warning needs only your reason)", field="case_id")
    allowed = judged.override_roles
    if not allowed:
        raise Conflict("the policy lets nobody override the limits this allocation breaks: "
                       + "; ".join(blocking_reasons(judged)), field="case_id")
    if requester.role in allowed:
        raise Conflict("you may override this limit yourself: allocate the case with your "
                       "reason", field="reason")
    if request_rows.pending_for(session, case_id=case_id, worker_id=worker_id,
                                role=role) is not None:
        raise Conflict("an override of this allocation has already been asked for and is "
                       "waiting for a decision", field="case_id")
    wait = overrides_of(policies).request_expires_after_working_days
    row = OverrideRequest(
        case_id=case_id, worker_id=worker_id, role=role, starts_on=starts_on,
        requested_by_id=requester_id, reason=text, decider_roles=",".join(sorted(allowed)),
        expires_on=add_working_days(today(), wait),
    )
    session.add(row)
    session.flush()
    audit.record(session, action="override_request.create", entity="override_request",
                 entity_id=row.id, actor_id=requester_id, nqsw_id=worker_id,
                 effective_on=starts_on,
                 after={**audit.snapshot_of(row), "blocked_by": blocking_reasons(judged)})
    _tell(session, row, to=deciders(session, row), kind="override_request.asked",
          subject=f"Override asked for: case {judged.case_reference} for "
                  f"{judged.worker.name}",
          blocked_by=blocking_reasons(judged))
    return row


# --- reading --------------------------------------------------------------------------------


def _in_reach(reach: Reach | None, on: date) -> Any:
    if reach is None:
        return None
    return allocations_in_reach(reach, worker_id=OverrideRequest.worker_id,
                                case_id=OverrideRequest.case_id, on=on)


def list_requests(
    session: Session, *, viewer_id: int | None, reach: Reach | None, status: str | None,
    limit: int, offset: int,
) -> tuple[list[OverrideRequest], int]:
    """The requests the person asked for, and those about work within their reach
    (`reach` None: all); pending first."""
    where = request_rows.visible(requested_by_id=viewer_id,
                                 in_reach=_in_reach(reach, today()))
    if reach is not None and reach.everything:
        where = None
    return request_rows.requests_page(session, where=where, status=status, limit=limit,
                                      offset=offset)


def get_request(
    session: Session, request_id: int, *, viewer_id: int | None, reach: Reach | None,
) -> OverrideRequest:
    """The request, if the person asked for it or it is about work within their reach;
    otherwise 404, as for one that does not exist."""
    row = request_rows.request(session, request_id)
    if row is None or not _reaches(row, viewer_id=viewer_id, reach=reach):
        raise NotFound("override request", request_id)
    return row


def _reaches(row: OverrideRequest, *, viewer_id: int | None, reach: Reach | None) -> bool:
    if reach is None or reach.everything or row.requested_by_id == viewer_id:
        return True
    return (row.worker_id in reach.people or row.worker_id in reach.case_people
            or row.case_id in reach.cases)


def may_decide(row: OverrideRequest, person: Staff | None) -> bool:
    """Whether this person is one the request went to (by role), and not its requester."""
    return (person is not None and row.status == Status.pending.value
            and person.id != row.requested_by_id and person.role in roles_of(row))


def view(session: Session, row: OverrideRequest) -> dict[str, Any]:
    """The request with the names a person reads (the API's and the pages' shape)."""
    context = _context(session, row)
    return {
        "id": row.id, "case_id": row.case_id, "case_reference": context["case_reference"],
        "worker_id": row.worker_id, "worker_name": context["nqsw_name"], "role": row.role,
        "starts_on": row.starts_on, "requested_by_id": row.requested_by_id,
        "requested_by_name": context["requester_name"], "reason": row.reason,
        "status": row.status, "decided_by_id": row.decided_by_id,
        "decided_by_name": context["decider_name"], "decision_reason": row.decision_reason,
        "decided_at": row.decided_at, "expires_on": row.expires_on,
        "allocation_id": row.allocation_id, "created_at": row.created_at,
        "decided_by_roles": sorted(roles_of(row)),
    }


# --- deciding -------------------------------------------------------------------------------


def _pending(session: Session, request_id: int, on: date) -> OverrideRequest:
    row = request_rows.lock_request(session, request_id)
    if row is None:
        raise NotFound("override request", request_id)
    if row.status != Status.pending.value:
        raise Conflict(f"this request was {row.status} already", field="status")
    if row.expires_on < on:
        raise Conflict(f"this request lapsed: it had to be decided by "
                       f"{row.expires_on.isoformat()}", field="status")
    return row


def _decider(session: Session, row: OverrideRequest, decider_id: int | None) -> Staff:
    if decider_id is None:
        raise Forbidden("a request is decided by a person signed in as themselves")
    person = require_worker(session, decider_id, field=None)
    if person.id == row.requested_by_id:
        raise Forbidden("you asked for this override: someone else decides it",
                        field="reason")
    if person.role not in roles_of(row):
        raise OverrideNotAllowed(f"only {role_words(roles_of(row))} may decide this "
                                 "request", field="reason")
    return person


def approve(
    session: Session, *, policies: PolicySet, request_id: int, approver_id: int | None,
    reason: str | None,
) -> OverrideRequest:
    """Approve: check the allocation again as things stand now and make it as the
    approver's own override (from the day asked for, or today if that has passed).

    If no firm limit refuses it any more it is allocated as any other; if it is now
    refused for something the approver may not override (the case closed, another
    allocation in the way, a limit only someone else may override), the approval is
    refused with the reason and the request stays pending.
    """
    on = today()
    row = _pending(session, request_id, on)
    approver = _decider(session, row, approver_id)
    text = require_reason(policies, reason, field="reason")
    start = max(row.starts_on, on)
    judged = judge(session, policies=policies, case_id=row.case_id, worker_id=row.worker_id,
                   role=row.role, starts_on=start)
    if judged.blocked and approver.role not in judged.override_roles:
        raise OverrideNotAllowed(
            "the allocation is now refused by limits only "
            f"{role_words(judged.override_roles)} may override: "
            + "; ".join(blocking_reasons(judged)), field="reason")
    ordinary = judged.decision.outcome is Outcome.ok
    written = allocation_write.create_allocation(
        session, policies=policies, case_id=row.case_id, worker_id=row.worker_id,
        role=row.role, start_date=start, override_reason=None if ordinary else text,
        allocated_by_id=approver.id,
    )
    return _decide(session, row, Status.approved, approver, text,
                   allocation_id=written.allocation.id)


def refuse(
    session: Session, *, request_id: int, decider_id: int | None, reason: str | None,
) -> OverrideRequest:
    """Refuse, saying why (the requester reads it)."""
    row = _pending(session, request_id, today())
    decider = _decider(session, row, decider_id)
    text = (reason or "").strip()
    if not text:
        raise DomainError("Say why you refuse: the team manager reads it", field="reason")
    return _decide(session, row, Status.refused, decider, text)


def withdraw(session: Session, *, request_id: int, requester_id: int | None) -> OverrideRequest:
    """The requester takes the request back (no longer wanted, or allocated otherwise)."""
    row = request_rows.lock_request(session, request_id)
    if row is None:
        raise NotFound("override request", request_id)
    if requester_id is None or row.requested_by_id != requester_id:
        raise Forbidden("only the person who asked for an override may withdraw it")
    if row.status != Status.pending.value:
        raise Conflict(f"this request was {row.status} already", field="status")
    before = audit.snapshot_of(row)
    row.status = Status.withdrawn.value
    row.decided_at = now_utc()
    session.flush()
    audit.record(session, action="override_request.withdraw", entity="override_request",
                 entity_id=row.id, actor_id=requester_id, nqsw_id=row.worker_id,
                 before=before, after=audit.snapshot_of(row))
    return row


def _decide(
    session: Session, row: OverrideRequest, status: Status, decider: Staff, reason: str,
    allocation_id: int | None = None,
) -> OverrideRequest:
    before = audit.snapshot_of(row)
    row.status = status.value
    row.decided_by_id = decider.id
    row.decision_reason = reason
    row.decided_at = now_utc()
    row.allocation_id = allocation_id
    session.flush()
    audit.record(session, action=f"override_request.{status.value}",
                 entity="override_request", entity_id=row.id, actor_id=decider.id,
                 nqsw_id=row.worker_id, before=before, after=audit.snapshot_of(row))
    case_reference = _context(session, row)["case_reference"]
    words = "approved" if status is Status.approved else "refused"
    _tell(session, row, to=[row.requested_by_id], kind=f"override_request.{words}",
          subject=f"Override {words}: case {case_reference}")
    return row


# --- lapsing --------------------------------------------------------------------------------


def expire_due(session: Session, on: date) -> int:
    """Requests still pending after their last day (`expires_on` before `on`) lapse, and
    their requesters are told; returns how many lapsed. Run by the daily sweep."""
    lapsed = request_rows.due_to_lapse(session, on)
    for row in lapsed:
        before = audit.snapshot_of(row)
        row.status = Status.expired.value
        session.flush()
        audit.record(session, action="override_request.expire", entity="override_request",
                     entity_id=row.id, actor_id=None, nqsw_id=row.worker_id,
                     before=before, after=audit.snapshot_of(row))
        reference = _context(session, row)["case_reference"]
        _tell(session, row, to=[row.requested_by_id], kind="override_request.expired",
              subject=f"Override request lapsed: case {reference}")
    return len(lapsed)
