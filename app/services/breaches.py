"""Breach views for the dashboards, and what people do about a breach.

Every list, aggregate and export issues a constant number of SQL statements whatever
the number of breaches (app/repositories/breach.py): filters and joins are in SQL,
ageing and weekly series are folded here over rows already grouped by the database.

"Open on a date D" means opened on or before D and not resolved by D
(``resolved_on`` is null or after D): the dashboards can be read as of any date. A breach
is aged from the day its problem began (``began_on``), not from the day it was detected
(``opened_on``): supervision overdue for sixty days is sixty days old when first seen.
"""

from __future__ import annotations

import csv
import io
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from itertools import accumulate
from typing import Any

from sqlmodel import Session

from app.clock import now_utc
from app.errors import Conflict, DomainError, Forbidden, NotFound
from app.exports.cells import csv_safe
from app.models import Breach, Staff
from app.models.breach import BreachStatus
from app.policy.separation import DEFAULT_SEPARATION, Duty, Separation
from app.repositories import breach as breach_rows
from app.repositories import breach_age
from app.repositories import staff as staff_repo
from app.repositories.breach import (  # noqa: F401  (pages and routes name them here)
    SEVERITY_ORDER,
    SEVERITY_SORTS,
    SORTS,
    BreachFilters,
)
from app.repositories.breach_age import ALL_SORTS
from app.services import audit
from app.services.escalation import add_event
from app.services.working_days import is_working_day, working_days_between
from app.wording import a_role

EXCEPTION_ROLES = frozenset({"senior_manager", "asye_coordinator"})
# Ageing buckets in working days (England and Wales), as a senior manager reads them.
AGEING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-5", 0, 5),
    ("6-10", 6, 10),
    ("11-20", 11, 20),
    ("21+", 21, None),
)
IMMUTABLE = "is resolved; a new breach opens if the finding returns"


def _row_view(row: Any, on: date) -> dict[str, Any]:
    """A breach as the lists show it, aged as of `on` from the day its problem began (to
    its resolution, if resolved by then); `detected_working_days` counts from detection."""
    breach, name, team_id, team_name, area_id = row
    end = min(breach.resolved_on or on, on)
    view = breach.model_dump()
    view.update(
        nqsw_name=name, team_id=team_id, team_name=team_name, service_area_id=area_id,
        age_days=max((end - breach.began_on).days, 0),
        age_working_days=working_days_between(breach.began_on, end),
        detected_working_days=working_days_between(breach.opened_on, end),
    )
    return view


def began_by(
    on: date, *, min_age_days: int | None = None, min_age_working_days: int | None = None
) -> date | None:
    """The latest day a problem can have begun to be at least this old on `on`: calendar
    days, working days (bank holidays excluded) or both (the stricter); None: any age."""
    cut_offs = []
    if min_age_days is not None:
        cut_offs.append(on - timedelta(days=min_age_days))
    if min_age_working_days is not None:
        day, counted = on, 0
        while counted < min_age_working_days:
            if is_working_day(day):
                counted += 1
            day -= timedelta(days=1)
        cut_offs.append(day)
    return min(cut_offs, default=None)


def list_breaches(
    session: Session,
    *,
    filters: BreachFilters,
    on: date,
    sort: str = "-opened_on",
    limit: int = 50,
    offset: int = 0,
    min_age_working_days: int | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """A page of breaches with their NQSW and team (two statements: the page and the count).

    Age filters count from the day the problem began: `filters.min_age_days` in calendar
    days, `min_age_working_days` in working days, each as of `on`.
    """
    if sort not in ALL_SORTS:
        raise DomainError(
            f"unknown sort {sort!r}; one of {', '.join(ALL_SORTS)}", field=["query", "sort"],
        )
    cut_off = began_by(on, min_age_days=filters.min_age_days,
                       min_age_working_days=min_age_working_days)
    rows, total = breach_age.page_by_age(session, filters=filters, on=on, sort=sort,
                                         limit=limit, offset=offset, began_by=cut_off)
    return [_row_view(row, on) for row in rows], total


def export_rows(
    session: Session, *, filters: BreachFilters, on: date, sort: str,
    min_age_working_days: int | None = None,
) -> str:
    """Every breach matching the filters as CSV (one statement)."""
    rows, _ = list_breaches(session, filters=filters, on=on, sort=sort, limit=10**9, offset=0,
                            min_age_working_days=min_age_working_days)
    columns = [
        "id", "staff_id", "nqsw_name", "team_id", "team_name", "service_area_id", "policy_id",
        "rule_id", "kind", "level", "severity", "status", "began_on", "opened_on",
        "resolved_on",
        "age_days", "age_working_days", "escalation_level", "escalated_on",
        "acknowledgement_note", "exception_expires_on", "override_reason", "policy_version",
        "reason", "resolution", "resolution_cause",
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for view in rows:
        writer.writerow(["" if view.get(c) is None else csv_safe(view.get(c)) for c in columns])
    return buffer.getvalue()


def get_breach(session: Session, breach_id: int, *, on: date) -> dict[str, Any]:
    """One breach with its evidence and full history (two statements)."""
    row = breach_rows.breach_with_names(session, breach_id)
    if row is None:
        raise NotFound("breach", breach_id)
    view = _row_view(row, on)
    view["history"] = breach_rows.history_of(session, breach_id)
    return view


# --- aggregates ---------------------------------------------------------------------------


def ageing_bucket(working_days: int) -> str:
    for label, low, high in AGEING_BUCKETS:
        if working_days >= low and (high is None or working_days <= high):
            return label
    return AGEING_BUCKETS[-1][0]


def summary(
    session: Session, *, filters: BreachFilters, on: date,
    min_age_working_days: int | None = None,
) -> dict[str, Any]:
    """Breaches open on `on`: by team x rule, status, severity and working-day age (from
    the day the problem began).

    One grouped statement; ageing is computed per distinct date a problem began, not per
    breach.
    """
    cut_off = began_by(on, min_age_days=filters.min_age_days,
                       min_age_working_days=min_age_working_days)
    rows = breach_age.open_on_by_team_rule_began(session, filters=filters, on=on,
                                                 began_by=cut_off)
    by_team_rule: Counter[tuple[Any, Any, str, str]] = Counter()
    by_status: Counter[str] = Counter()
    by_severity: Counter[str] = Counter()
    ages: Counter[str] = Counter()
    for team_id, team_name, policy_id, rule_id, status, severity, began_on, count in rows:
        by_team_rule[(team_id, team_name, policy_id, rule_id)] += count
        by_status[status] += count
        by_severity[severity] += count
        ages[ageing_bucket(working_days_between(began_on, on))] += count
    return {
        "on": on,
        "total": sum(by_status.values()),
        "by_team_rule": [
            {"team_id": t, "team_name": n, "policy_id": p, "rule_id": r, "count": c}
            for (t, n, p, r), c in sorted(
                by_team_rule.items(), key=lambda item: (str(item[0][1] or ""), item[0][2:])
            )
        ],
        "by_status": dict(by_status),
        "by_severity": dict(by_severity),
        "ageing": [
            {"label": label, "min_working_days": low, "max_working_days": high,
             "count": ages.get(label, 0)}
            for label, low, high in AGEING_BUCKETS
        ],
    }


def trend(session: Session, *, filters: BreachFilters, on: date, weeks: int) -> dict[str, Any]:
    """Weekly series over `weeks` weeks ending on `on`: open at each week's end, opened
    and resolved during the week. One grouped statement."""
    first_end = on - timedelta(weeks=weeks - 1)
    first_start = first_end - timedelta(days=6)
    rows = breach_rows.opened_and_resolved_since(session, filters=filters, on=on,
                                                 since=first_start)
    opened_days: Counter[date] = Counter()
    resolved_days: Counter[date] = Counter()
    for opened_on, resolved_on, count in rows:
        opened_days[opened_on] += count
        if resolved_on is not None:
            resolved_days[resolved_on] += count
    opened_upto = _cumulative(opened_days)
    resolved_upto = _cumulative(resolved_days)
    series = []
    for index in range(weeks):
        week_end = first_end + timedelta(weeks=index)
        before_start = week_end - timedelta(days=7)
        # A breach is resolved on or after the day it opened, so those resolved by the
        # week's end are among those opened by then.
        series.append({
            "week_ending": week_end,
            "open": opened_upto(week_end) - resolved_upto(week_end),
            "opened": opened_upto(week_end) - opened_upto(before_start),
            "resolved": resolved_upto(week_end) - resolved_upto(before_start),
        })
    return {"on": on, "weeks": weeks, "series": series}


def team_change(
    session: Session, *, filters: BreachFilters, on: date, weeks: int = 12
) -> dict[str, Any]:
    """Which teams got worse: each team's unresolved breaches on `on` and `weeks` weeks
    before, by the breach history (a breach counts on a day when its problem had begun
    by then and it was not resolved by then), worst change first. One grouped statement.

    Teams are ordered by the change (largest rise first), then by the count now (largest
    first), then by name; a team with no unresolved breach on either day is left out.
    """
    then = on - timedelta(weeks=weeks)
    rows = breach_age.unresolved_by_team_on(session, filters=filters, days=(then, on))
    teams = []
    for team_id, team_name, before, now in rows:
        before, now = int(before or 0), int(now or 0)
        if before or now:
            teams.append({"team_id": team_id, "team_name": team_name, "then": before,
                          "now": now, "change": now - before})
    teams.sort(key=lambda t: (-t["change"], -t["now"], str(t["team_name"] or "")))
    return {"on": on, "since": then, "weeks": weeks, "teams": teams}


def _cumulative(counts: Counter[date]) -> Callable[[date], int]:
    """`f(day)`: the total of `counts` on or before `day` (a binary search, not a scan)."""
    days = sorted(counts)
    totals = list(accumulate(counts[d] for d in days))

    def upto(day: date) -> int:
        index = bisect_right(days, day)
        return totals[index - 1] if index else 0

    return upto


# --- what people do about a breach ----------------------------------------------------------


def _breach_for_update(session: Session, breach_id: int) -> Breach:
    breach = breach_rows.breach_for_update(session, breach_id)
    if breach is None:
        raise NotFound("breach", breach_id)
    return breach


def _not_before_opening(breach: Breach, on: date) -> None:
    """Nobody acts on a breach before it existed: its history must read in order."""
    if on < breach.opened_on:
        raise DomainError(
            f"{on} is before breach {breach.id} opened ({breach.opened_on})", field="on"
        )


def _person(session: Session, staff_id: int, field: str | None) -> Staff:
    person = staff_repo.person(session, staff_id)
    if person is None:
        raise DomainError(f"staff member {staff_id} does not exist", field=field)
    return person


# The breach events that record someone allocating past the rule with a reason.
OVERRIDE_ACTIONS = ("overridden", "reason_given")


def overrode(session: Session, *, breach_id: int, override_by_id: int | None,
             staff_id: int) -> bool:
    """Whether this person went past the breach's rule with an override (now or earlier:
    a later override by someone else does not wash out the first)."""
    if override_by_id == staff_id:
        return True
    return breach_rows.acted_on(session, breach_id=breach_id, actor_id=staff_id,
                                actions=OVERRIDE_ACTIONS)


SELF_EXCEPTION = ("you overrode this limit, so another senior manager or the ASYE "
                  "coordinator must agree the exception")


def exception_refusal(
    session: Session, *, breach_id: int, override_by_id: int | None, staff_id: int | None,
    separation: Separation = DEFAULT_SEPARATION,
) -> str | None:
    """Why this person may not agree an exception on the breach, on separation grounds;
    None if they may. The breach page asks too, to say so beside the form."""
    if (staff_id is not None and separation.requires(Duty.breach_exception_after_override)
            and overrode(session, breach_id=breach_id, override_by_id=override_by_id,
                         staff_id=staff_id)):
        return SELF_EXCEPTION
    return None


def acknowledge(
    session: Session, *, breach_id: int, note: str, actor_id: int | None, on: date
) -> Breach:
    """Someone has seen the breach and says what is being done: the note is required.

    Acknowledging is not resolving: the breach still climbs the ladder if it lasts.
    """
    breach = _breach_for_update(session, breach_id)
    if actor_id is not None:
        _person(session, actor_id, None)
    _not_before_opening(breach, on)
    if not note or not note.strip():
        raise DomainError("an acknowledgement needs a note", field="note")
    if breach.status != BreachStatus.open.value:
        raise Conflict(
            f"breach {breach.id} is {breach.status}: only an open breach can be acknowledged"
            + (f" ({IMMUTABLE})" if breach.status == BreachStatus.resolved else ""),
            field="status",
        )
    before = breach.status
    breach.status = BreachStatus.acknowledged.value
    breach.acknowledged_by_id = actor_id
    breach.acknowledged_at = now_utc()
    breach.acknowledgement_note = note.strip()
    breach.updated_at = breach.acknowledged_at
    session.flush()
    add_event(session, breach, action="acknowledged", on=on, from_status=before,
              actor_id=actor_id, note=breach.acknowledgement_note)
    audit.record(session, action="breach.acknowledge", entity="breach", entity_id=breach.id,
                 actor_id=actor_id, nqsw_id=breach.staff_id, before={"status": before},
                 after={"status": breach.status, "note": breach.acknowledgement_note,
                        "on": on}, effective_on=on)
    session.flush()
    return breach


def grant_exception(
    session: Session,
    *,
    breach_id: int,
    approver_id: int | None,
    reason: str,
    expires_on: date,
    on: date,
    separation: Separation = DEFAULT_SEPARATION,
) -> Breach:
    """An agreed, time-limited exception by a senior manager or coordinator.

    `approver_id` is the person signed in: an approval is always the approver's own
    request. Someone who overrode the rule on this breach may not agree its exception
    when the organisation asks for a second person (app.policy.separation).

    While it holds the breach does not escalate; the day after `expires_on` the sweep
    reopens it if the finding still holds.
    """
    breach = _breach_for_update(session, breach_id)
    if approver_id is None:
        raise Forbidden("an exception is agreed by a senior manager or an ASYE coordinator "
                        "signed in as themselves")
    approver = _person(session, approver_id, None)
    if approver.role not in EXCEPTION_ROLES:
        raise Forbidden(
            f"you are {a_role(approver.role)} and may not agree an exception; a senior "
            "manager or an ASYE coordinator may"
        )
    refusal = exception_refusal(session, breach_id=breach_id,
                                override_by_id=breach.override_by_id, staff_id=approver_id,
                                separation=separation)
    if refusal is not None:
        raise Forbidden(refusal)
    _not_before_opening(breach, on)
    if expires_on < on:
        raise DomainError(f"expiry {expires_on} is before {on}", field="expires_on")
    if breach.status == BreachStatus.resolved.value:
        raise Conflict(f"breach {breach.id} {IMMUTABLE}", field="status")
    before = {
        "status": breach.status,
        "exception_expires_on": breach.exception_expires_on,
        "exception_approver_id": breach.exception_approver_id,
    }
    breach.status = BreachStatus.excepted.value
    breach.exception_approver_id = approver_id
    breach.exception_reason = reason.strip()
    breach.exception_expires_on = expires_on
    breach.exception_granted_at = now_utc()
    breach.updated_at = breach.exception_granted_at
    session.flush()
    add_event(session, breach, action="excepted", on=on, from_status=str(before["status"]),
              actor_id=approver_id, note=breach.exception_reason,
              data={"expires_on": expires_on.isoformat()})
    audit.record(session, action="breach.exception", entity="breach", entity_id=breach.id,
                 actor_id=approver_id, nqsw_id=breach.staff_id, before=before,
                 after={"status": breach.status, "reason": breach.exception_reason,
                        "expires_on": expires_on, "on": on}, effective_on=on)
    session.flush()
    return breach


def counts_by_staff(session: Session, staff_ids: Sequence[int]) -> dict[int, int]:
    """Unresolved breaches per NQSW (for lists that show a badge), in one statement."""
    return breach_rows.unresolved_counts_by_staff(session, staff_ids)
