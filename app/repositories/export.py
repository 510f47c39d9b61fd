"""Reads for the exports (app/exports): the breach register in chunks, the NQSWs a
workload snapshot covers, and their unresolved breaches, each in one statement.

The register reuses the breach list's own filters (app/repositories/breach.py), so an
export holds exactly the rows the list and the dashboard would show for the same filters.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from app.auth.reach import Reach
from app.models import Breach, Enrolment, ServiceArea, Staff, Team
from app.models.breach import UNRESOLVED_STATUSES
from app.repositories import breach as breach_rows
from app.repositories.account import people_in_reach

# Rows read from the database at a time: large enough to keep round trips few, small
# enough that a register of any length is never held in memory at once.
CHUNK = 1000

REGISTER_COLUMNS = (
    Breach.id, Breach.staff_id, Staff.name, Team.name, ServiceArea.name, Breach.policy_id,
    Breach.rule_id, Breach.kind, Breach.level, Breach.severity, Breach.status,
    Breach.opened_on, Breach.began_on, Breach.resolved_on, Breach.escalation_level,
    Breach.escalated_on, Breach.acknowledgement_note, Breach.exception_expires_on,
    Breach.override_reason, Breach.reason, Breach.resolution, Breach.resolution_cause,
    Breach.policy_version,
)


def breach_register(
    session: Session, *, filters: breach_rows.BreachFilters, on: date
) -> Iterator[Sequence[Sequence[Any]]]:
    """Every breach matching the filters, oldest first, as plain column tuples
    (`REGISTER_COLUMNS`), in chunks of `CHUNK` read from one streamed statement."""
    query = breach_rows._filtered(  # the list's own filters, so both agree on every row
        breach_rows._base_query(REGISTER_COLUMNS)
        .outerjoin(ServiceArea, col(ServiceArea.id) == col(Team.service_area_id)),
        filters, on,
    ).order_by(col(Breach.opened_on), col(Breach.id)).execution_options(yield_per=CHUNK)
    result = session.exec(query)
    yield from result.partitions(CHUNK)


def nqsws_in_reach(session: Session, *, scope: Reach, on: date) -> list[Any]:
    """NQSWs whose programme had started by `on` and who had not left, within reach:
    (staff id, name, team id, team name, area name), by team then name. One statement."""
    query = (
        select(  # type: ignore[call-overload]
            col(Staff.id), col(Staff.name), col(Team.id), col(Team.name), col(ServiceArea.name)
        )
        .join(Enrolment, col(Enrolment.staff_id) == col(Staff.id))
        .outerjoin(Team, col(Team.id) == col(Staff.team_id))
        .outerjoin(ServiceArea, col(ServiceArea.id) == col(Team.service_area_id))
        .where(col(Enrolment.start_date) <= on,
               or_(col(Staff.leave_date).is_(None), col(Staff.leave_date) > on))
        .distinct()
        .order_by(col(Team.name), col(Staff.name), col(Staff.id))
    )
    visible = people_in_reach(scope, staff_id=Staff.id, team_id=Staff.team_id)
    if visible is not None:
        query = query.where(visible)
    return list(session.exec(query).all())


def unresolved_opened_by(
    session: Session, staff_ids: Sequence[int], *, on: date
) -> dict[int, int]:
    """Each NQSW's breaches opened by `on` that are unresolved now (what the workload
    API counts for one NQSW), for many at once; people with none are left out."""
    if not staff_ids:
        return {}
    rows = session.exec(
        select(Breach.staff_id, func.count(col(Breach.id)))
        .where(col(Breach.staff_id).in_(list(staff_ids)),
               col(Breach.status).in_(UNRESOLVED_STATUSES),
               col(Breach.opened_on) <= on)
        .group_by(col(Breach.staff_id))
    ).all()
    return {staff_id: int(count) for staff_id, count in rows}
