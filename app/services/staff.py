"""Staff: joining, corrections and leaving. People leave on a date; no one is deleted."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from app.auth.accounts import change_role
from app.auth.reach import Reach
from app.errors import Conflict, DomainError
from app.models import Staff
from app.models.base import Role
from app.repositories import staff as staff_repo
from app.repositories.staff import StaffFilter
from app.schemas.staff import StaffCreate, StaffUpdate, implausible_pattern
from app.services import audit, workload_events
from app.services.changes import apply_changes
from app.services.history import STAFF_TERM_FIELDS, change_staff_terms
from app.services.org import require_open_team
from app.services.reconcile import Cause, Trigger

if TYPE_CHECKING:
    from app.policy.registry import PolicySet

# Changes to these can change what an NQSW may hold (pro rata caps, team benchmarks).
_LOAD_FIELDS = frozenset({"role", "team_id", "fte", "contracted_hours", "leave_date",
                          "start_date", "experienced"})


def ensure_email_free(session: Session, email: str, *, exclude_id: int | None = None) -> None:
    """A clear 409 naming the address, before the unique index would refuse it."""
    if staff_repo.email_taken(session, email, exclude_id=exclude_id):
        raise Conflict(f"a staff member with email {email} already exists", field="email")


def nqsw_of(staff: Staff) -> int | None:
    """The NQSW an audit event is about, so their trail can be read in one place."""
    return staff.id if staff.role == Role.nqsw.value else None


def create_staff(*, session: Session, data: StaffCreate, actor_id: int | None = None) -> Staff:
    require_open_team(session, data.team_id, on=data.start_date, field="team_id")
    ensure_email_free(session, data.email)
    values = data.model_dump()
    values["role"] = data.role.value
    staff = Staff(**values)
    session.add(staff)
    session.flush()
    audit.record(session, action="staff.create", entity="staff", entity_id=staff.id,
                 actor_id=actor_id, nqsw_id=nqsw_of(staff), after=staff)
    return staff


def list_staff(
    *,
    session: Session,
    limit: int,
    offset: int,
    on: date,
    role: Role | None = None,
    team_id: int | None = None,
    active: bool | None = None,
    search: str | None = None,
    scope: Reach | None = None,
) -> tuple[list[Staff], int]:
    """Staff by name; `scope` keeps the list to the records the caller may see."""
    filters = StaffFilter(role=role.value if role is not None else None, team_id=team_id,
                          active=active, search=search)
    return staff_repo.staff_page(
        session, on=on, limit=limit, offset=offset, filters=filters, scope=scope
    )


def get_staff(*, session: Session, staff_id: int) -> Staff:
    return staff_repo.person_or_404(session, staff_id)


def update_staff(
    *, session: Session, staff_id: int, data: StaffUpdate, on: date, policies: PolicySet,
    actor_id: int | None = None,
) -> Staff:
    """Correct a staff record, or record a dated change to their working terms.

    Team, FTE and contracted hours change *from `on`* (default today) and the earlier
    terms are kept (app/services/history.py): pass the start date to correct them from
    the beginning. A change of role goes through the same rule as an account's role
    (`app.auth.accounts.change_role`: audited as a role change, and nobody changes their
    own). Everything else is a correction of the record. A change to what their load is
    measured against re-evaluates them with `policies`.
    """
    staff = get_staff(session=session, staff_id=staff_id)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    for required in ("name", "email", "role", "fte", "contracted_hours", "start_date",
                     "experienced"):
        if required in changes and changes[required] is None:
            raise DomainError(f"{required} cannot be empty", field=required)
    if isinstance(changes.get("role"), Role):
        changes["role"] = changes["role"].value
    if changes.get("email") is not None:
        ensure_email_free(session, changes["email"], exclude_id=staff.id)
    start = changes.get("start_date", staff.start_date)
    leave = changes.get("leave_date", staff.leave_date)
    if leave is not None and leave < start:
        field = "leave_date" if "leave_date" in changes else "start_date"
        raise DomainError(f"leave date {leave} is before the start date {start}", field=field)
    require_open_team(session, changes.get("team_id"), on=on, field="team_id")
    terms_then = staff_repo.terms_on(session, [staff], on)[staff_id]
    if "contracted_hours" in changes and "fte" not in changes:
        problem = implausible_pattern(terms_then.fte, changes["contracted_hours"])
        if problem:
            raise DomainError(problem, field="contracted_hours")
    changes = {k: v for k, v in changes.items()
               if (getattr(terms_then, k) if k in STAFF_TERM_FIELDS else getattr(staff, k)) != v}
    if not changes:
        return staff
    role = changes.pop("role", None)
    if role is not None:
        if actor_id is not None and actor_id == staff.id:
            raise DomainError("you cannot change your own role", field="role")
        change_role(session, staff, role, actor_id=actor_id)
    terms = {k: changes.pop(k) for k in STAFF_TERM_FIELDS if k in changes}
    before: dict[str, Any] = {}
    if changes:
        before.update(apply_changes(staff, changes))
    if terms:
        before.update(change_staff_terms(session, staff, terms, on))
    session.flush()
    if changes or terms:
        audit.record(session, action="staff.update", entity="staff", entity_id=staff.id,
                     actor_id=actor_id, nqsw_id=nqsw_of(staff), before=before,
                     after={**changes, **terms},
                     effective_on=on if terms else None)
    changed = changes.keys() | terms.keys() | ({"role"} if role is not None else set())
    if _LOAD_FIELDS & changed:
        workload_events.staff_changed(session, staff_ids=[staff_id], on=on, actor_id=actor_id,
                                      policies=policies,
                                      trigger=Trigger("staff record changed", Cause.changed))
    return staff


def leave(
    *, session: Session, staff_id: int, on: date, policies: PolicySet,
    actor_id: int | None = None,
) -> Staff:
    """Record that someone left: their history (cases, breaches, audit) stays readable."""
    staff = get_staff(session=session, staff_id=staff_id)
    if staff.leave_date is not None:
        raise DomainError(
            f"already left on {staff.leave_date}; correct it with PATCH leave_date", field="on"
        )
    if on < staff.start_date:
        raise DomainError(f"leave date {on} is before the start date {staff.start_date}",
                          field="on")
    staff.leave_date = on
    session.flush()
    audit.record(session, action="staff.leave", entity="staff", entity_id=staff.id,
                 actor_id=actor_id, nqsw_id=nqsw_of(staff), after={"leave_date": on})
    workload_events.staff_changed(session, staff_ids=[staff_id], on=on, actor_id=actor_id,
                                  policies=policies,
                                  trigger=Trigger("left the organisation", Cause.changed))
    return staff
