"""`protected_time`: the 10% of working time ring-fenced for learning is diarised and taken.

Reports say protected time slips quietly: it is never booked, or booked and then lost
to the team's pressures. So the rule looks at the diary four ways, each optional:

* **diarised ahead** — by week W of each programme year at least P% of that year's
  entitlement is in the diary: taken, or booked for a day not yet past (a booking whose
  day has gone by without being marked taken has *lapsed* and no longer counts). NQSWs
  are directed to diarise their protected days at the start of the year;
* **on track** — hours taken to date are at least Q% of the hours accrued to date;
* **rebooking** — a cancelled or displaced booking is rebooked within N working days
  (bank holidays and paused days do not count);
* **shortfall** — over consecutive windows of W weeks, the hours not taken in a window
  are carried forward as a debt; extra time later pays the debt off but is never
  banked ahead. More than T days of debt is a finding.

One finding per rule (the worst of the enabled checks) so that one breach tracks the
promise; an organisation that wants separate breaches lists several rules of this
kind, each with one check enabled. The entitlement arithmetic is shared with the diary
(`app.policy.entitlement`, pure) so that the rule and the NQSW's page agree.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from pydantic import Field

from app.policy.causes import ResolutionCause
from app.policy.entitlement import (
    WORKING_DAYS_PER_YEAR,
    Ledger,
    Programme,
    Terms,
    accrued_entitlement,
    add_working_days,
    entitlement_between,
    pause_spans,
    programme_entitlement,
    programme_ledger,
    year_span,
)
from app.policy.findings import Finding, Outcome
from app.policy.programme import programme_days
from app.policy.rules.base import DescribeContext, RuleContext
from app.policy.rules.common import EnforcementName, StrictParams, number, percent, plural
from app.policy.snapshot import ProtectedTimeEntry, Snapshot
from app.policy.vocabulary import PROGRAMME_MONTHS

LOST = frozenset({"cancelled", "displaced"})
# The rule never looks at the caseload or a proposed case, so a what-if allocation check
# evaluates it once (app.policy.engine.evaluate_proposal).
reads_caseload = False
# It reads the diary: a breach that lifts with nothing else to explain it was lifted by
# a diary change (time booked, taken or rebooked).
reads_diary = True
diary_cause = ResolutionCause.diary
# Hours behind grow day by day by themselves: a new figure is not news for the history.
measured_by_time = True


class Check(StrictParams):
    enabled: bool = True
    enforcement: EnforcementName | None = Field(
        default=None, description="Overrides the rule's enforcement for this check."
    )

    def promise(self) -> str:
        """The check as the NQSW is promised it, a sentence of the policy's statement."""
        raise NotImplementedError


class DiarisedAhead(Check):
    by_week: int = Field(default=6, ge=1, le=52, description="Programme week of each year.")
    percent: float = Field(default=0.5, gt=0, le=1, description="Share of the year's hours.")

    def promise(self) -> str:
        return (f"By week {self.by_week} of each programme year at least "
                f"{percent(self.percent)} of that year's time will be in your diary.")


class OnTrack(Check):
    percent: float = Field(default=0.8, gt=0, le=1, description="Taken as a share of accrued.")
    from_week: int = Field(default=8, ge=0, description="Not judged before this week.")

    def promise(self) -> str:
        return (f"From week {self.from_week} the time you have taken will be at least "
                f"{percent(self.percent)} of the time you have earned so far.")


class Rebooking(Check):
    within_working_days: int = Field(default=10, ge=0, le=120)

    def promise(self) -> str:
        return ("Only a team manager may cancel your protected time, with a reason; it will "
                f"be rebooked within {plural(self.within_working_days, 'working day')}.")


class Shortfall(Check):
    window_weeks: int = Field(default=6, ge=1, le=52)
    tolerance_days: float = Field(default=1.0, ge=0, description="Debt tolerated, in days.")

    def promise(self) -> str:
        return (f"Time not taken in any {self.window_weeks}-week stretch is carried forward "
                f"as time owed to you; more than {plural(self.tolerance_days, 'day')} owed is "
                "flagged.")


class Params(StrictParams):
    percent: float = Field(default=0.10, gt=0, le=1, description="Share of working time.")
    annual_leave_days: float = Field(
        default=26.0, ge=0, le=60, description="A full-time year's leave, bank holidays apart."
    )
    diarised_ahead: DiarisedAhead = DiarisedAhead()
    on_track: OnTrack = OnTrack()
    rebooking: Rebooking = Rebooking()
    shortfall: Shortfall = Shortfall()

    @property
    def terms(self) -> Terms:
        return Terms(percent=self.percent, annual_leave_days=self.annual_leave_days)


def programme_of(snapshot: Snapshot) -> Programme:
    return Programme(
        start=snapshot.programme_start,
        months=PROGRAMME_MONTHS.get(snapshot.programme, 12),  # type: ignore[call-overload]
        pauses=snapshot.pauses,
        contracted_hours=snapshot.contracted_hours,
        fte=snapshot.fte,
        hours_periods=snapshot.hours_periods,
    )


def _hours(entries: list[ProtectedTimeEntry]) -> float:
    return round(sum(e.hours for e in entries), 2)


def _weeks_into(snapshot: Snapshot, first: date, on: date) -> int:
    """Completed programme weeks (pauses excluded) from `first` to the end of `on`."""
    tomorrow = on + timedelta(days=1)
    return (programme_days(snapshot, tomorrow) - programme_days(snapshot, first)) // 7


def _shortfall(
    snapshot: Snapshot, programme: Programme, ledger: Ledger, terms: Terms, check: Shortfall
) -> dict[str, Any]:
    on = snapshot.as_of
    length = timedelta(days=7 * check.window_weeks)
    last_day = ledger.last
    taken = sorted((e for e in snapshot.protected_time if e.status == "taken"),
                   key=lambda e: e.day)
    windows: list[dict[str, Any]] = []
    debt = 0.0
    first = programme.start
    while first <= last_day:
        last = min(first + length - timedelta(days=1), last_day)
        if last >= on:
            break
        expected = entitlement_between(programme, first, last, terms=terms, on=on,
                                       ledger=ledger).hours
        got = sum(e.hours for e in taken if first <= e.day <= last)
        debt = max(0.0, debt + expected - got)
        windows.append({
            "first_day": first.isoformat(), "last_day": last.isoformat(),
            "expected_hours": round(expected, 2), "taken_hours": round(got, 2),
            "debt_hours": round(debt, 2),
        })
        first = last + timedelta(days=1)
    return {"windows": windows, "debt_hours": round(debt, 2)}


def measure(snapshot: Snapshot, params: Params) -> dict[str, Any]:
    """Every number the rule looks at; the diary's summary shows the same ones."""
    on = snapshot.as_of
    programme = programme_of(snapshot)
    terms = params.terms
    ledger = programme_ledger(programme, holidays_=snapshot.bank_holidays, on=on)
    whole = programme_entitlement(programme, terms=terms, on=on, ledger=ledger)
    accrued = accrued_entitlement(programme, on, terms=terms, ledger=ledger)
    entries = list(snapshot.protected_time)
    taken = [e for e in entries if e.status == "taken" and e.day <= on]
    booked = [e for e in entries if e.status == "booked" and e.day >= on]
    lapsed = [e for e in entries if e.status == "booked" and e.day < on]
    year, year_first, year_last = year_span(programme, on)
    year_entitlement = entitlement_between(programme, year_first, year_last, terms=terms,
                                           on=on, ledger=ledger)
    in_diary_this_year = [e for e in (*taken, *booked) if year_first <= e.day <= year_last]
    day = whole.day_hours
    result: dict[str, Any] = {
        "as_of": on.isoformat(),
        "day_hours": round(day, 4),
        "entitlement_hours": round(whole.hours, 2),
        "entitlement_days": round(whole.in_days, 2),
        "accrued_hours": round(accrued.hours, 2),
        "taken_hours": _hours(taken),
        "booked_hours": _hours(booked),
        "lapsed_hours": _hours(lapsed),
        "remaining_hours": round(max(whole.hours - _hours(taken), 0.0), 2),
        "unbooked_hours": round(max(whole.hours - _hours(taken) - _hours(booked), 0.0), 2),
        "provisional": whole.provisional,
        "year": {
            "index": year + 1,
            "first_day": year_first.isoformat(),
            "last_day": year_last.isoformat(),
            "entitlement_hours": round(year_entitlement.hours, 2),
            "in_diary_hours": _hours(in_diary_this_year),
            "weeks_completed": _weeks_into(snapshot, year_first, on) if on >= year_first else 0,
        },
        "programme_weeks": _weeks_into(snapshot, programme.start, on)
        if on >= programme.start else 0,
    }
    waiting = []
    if params.rebooking.enabled:
        for entry in entries:
            if entry.status not in LOST or entry.rebooked:
                continue
            since = entry.cancelled_on or entry.day
            working = ledger.count(since + timedelta(days=1), on).working if since < on else 0
            waiting.append({
                "entry_id": entry.entry_id, "day": entry.day.isoformat(),
                "status": entry.status, "hours": entry.hours,
                "since": since.isoformat(), "working_days_waiting": working,
            })
    result["awaiting_rebooking"] = waiting
    if params.shortfall.enabled:
        result["shortfall"] = _shortfall(snapshot, programme, ledger, terms, params.shortfall)
    return result


def checks(measures: dict[str, Any], params: Params) -> list[dict[str, Any]]:
    """Each enabled check's verdict: name, ok, sentence, measured, limit and enforcement."""
    judged: tuple[tuple[Check, Callable[[dict[str, Any], Any], dict[str, Any]]], ...] = (
        (params.diarised_ahead, _diarised_ahead),
        (params.on_track, _on_track),
        (params.rebooking, _rebooking),
        (params.shortfall, _shortfall_check),
    )
    return [judge(measures, check) for check, judge in judged if check.enabled]


def _verdict(name: str, ok: bool, text: str, measured: float, limit: float,
             enforcement: Any) -> dict[str, Any]:
    """One check's verdict in the shape the rule's finding and the workload read."""
    return {"check": name, "ok": ok, "text": text, "measured": measured, "limit": limit,
            "enforcement": enforcement}


def _diarised_ahead(measures: dict[str, Any], ahead: DiarisedAhead) -> dict[str, Any]:
    """Enough of the year's entitlement is in the diary by the week the policy names."""
    year = measures["year"]
    needed = ahead.percent * year["entitlement_hours"]
    due = year["weeks_completed"] >= ahead.by_week
    ok = not due or year["in_diary_hours"] + 1e-9 >= needed
    when = f"by week {ahead.by_week} of programme year {year['index']}"
    booked = f"{number(year['in_diary_hours'])} h of this year's " \
             f"{number(year['entitlement_hours'])} h are in the diary"
    if ok and not due:
        text = f"{booked} ({percent(ahead.percent)} is expected {when})"
    elif ok:
        text = f"{booked}, at least {percent(ahead.percent)} {when}"
    else:
        text = (f"only {booked}; at least {number(round(needed, 2))} h "
                f"({percent(ahead.percent)}) should be {when}")
    return _verdict("diarised_ahead", ok, text, year["in_diary_hours"], round(needed, 2),
                    ahead.enforcement)


def _on_track(measures: dict[str, Any], track: OnTrack) -> dict[str, Any]:
    """Enough of the time earned so far has been taken, from the week the policy names."""
    needed = track.percent * measures["accrued_hours"]
    due = measures["programme_weeks"] >= track.from_week
    ok = not due or measures["taken_hours"] + 1e-9 >= needed
    base = (f"{number(measures['taken_hours'])} h taken of "
            f"{number(measures['accrued_hours'])} h earned so far")
    if not due:
        text = f"{base} (judged from week {track.from_week})"
    elif ok:
        text = f"{base}, at least {percent(track.percent)}"
    else:
        text = f"{base}: below {percent(track.percent)} ({number(round(needed, 2))} h)"
    return _verdict("on_track", ok, text, measures["taken_hours"], round(needed, 2),
                    track.enforcement)


def _rebooking(measures: dict[str, Any], rebook: Rebooking) -> dict[str, Any]:
    """Cancelled or displaced time is rebooked within the working days the policy allows."""
    waiting = measures["awaiting_rebooking"]
    late = [w for w in waiting if w["working_days_waiting"] > rebook.within_working_days]
    if late:
        days = ", ".join(f"{w['day']} ({w['status']}, {w['working_days_waiting']} working "
                         "days ago)" for w in late)
        text = (f"{plural(len(late), 'booking')} not rebooked within "
                f"{rebook.within_working_days} working days: {days}")
    elif waiting:
        text = (f"{plural(len(waiting), 'booking')} to rebook, within "
                f"{rebook.within_working_days} working days")
    else:
        text = "nothing cancelled is waiting to be rebooked"
    return _verdict("rebooking", not late, text, float(len(late)), 0.0, rebook.enforcement)


def _shortfall_check(measures: dict[str, Any], short: Shortfall) -> dict[str, Any]:
    """Time not taken, carried over the policy's windows, stays within the tolerance."""
    debt = measures["shortfall"]["debt_hours"]
    tolerance = short.tolerance_days * measures["day_hours"]
    ok = debt <= tolerance + 1e-9
    text = (f"{number(debt)} h carried forward as not taken over "
            f"{short.window_weeks}-week windows")
    text += "" if ok else f", more than the {number(round(tolerance, 2))} h tolerated"
    return _verdict("shortfall", ok, text, debt, round(tolerance, 2), short.enforcement)


def verdict(snapshot: Snapshot, params: Params) -> dict[str, Any]:
    """Whether protected time is on track, why, and every measure (rule and diary agree)."""
    if snapshot.as_of < snapshot.programme_start:
        return {"ok": True, "reason": "The programme has not started yet.", "checks": [],
                "failing": [], "measures": {"checks": []}}
    measures = measure(snapshot, params)
    found = checks(measures, params)
    failing = [c for c in found if not c["ok"]]
    measures["checks"] = [{k: v for k, v in c.items() if k != "enforcement"} for c in found]
    if failing:
        reason = "Protected time is slipping: " + "; ".join(c["text"] for c in failing) + "."
    else:
        reason = "Protected time is on track: " + "; ".join(c["text"] for c in found) + "."
    return {"ok": not failing, "reason": reason, "checks": measures["checks"],
            "failing": failing, "measures": measures, "all": found}


def evaluate(snapshot: Snapshot, params: Params, context: RuleContext) -> Finding:
    result = verdict(snapshot, params)
    measures = result["measures"]
    failing = result["failing"]
    if not failing:
        first = result.get("all") or [{"measured": None, "limit": None}]
        return context.finding(Outcome.ok, result["reason"], measured=first[0]["measured"],
                               limit=first[0]["limit"], details=measures)
    outcome = Outcome.ok
    for check in failing:
        candidate = Outcome(check["enforcement"]) if check["enforcement"] else context.enforcement
        if candidate.rank > outcome.rank:
            outcome = candidate
    return context.finding(outcome, result["reason"], measured=failing[0]["measured"],
                           limit=failing[0]["limit"], details=measures,
                           began_on=fell_behind_on(snapshot, params, measures, failing))


def fell_behind_on(
    snapshot: Snapshot, params: Params, measures: dict[str, Any], failing: list[dict[str, Any]]
) -> date | None:
    """The day protected time fell behind, when the failing checks can tell: a booking
    went unrebooked past its working days, or the carried debt went over the tolerance at
    the end of a window and has stayed over since. The diarised-ahead and on-track checks
    move with the calendar and cannot say (None: the breach is dated when detected)."""
    on = snapshot.as_of
    names = {check["check"] for check in failing}
    if names - {"rebooking", "shortfall"}:
        return None
    found: list[date] = []
    if "rebooking" in names:
        spans = pause_spans(snapshot.pauses, snapshot.programme_start)
        closed = tuple((a, b if b is not None else max(on, a)) for a, b in spans)
        allowed = params.rebooking.within_working_days
        for waiting in measures["awaiting_rebooking"]:
            if waiting["working_days_waiting"] <= allowed:
                continue
            when = add_working_days(date.fromisoformat(waiting["since"]), allowed + 1,
                                    spans=closed, holidays_=snapshot.bank_holidays)
            if when is not None and when <= on:
                found.append(when)
    if "shortfall" in names:
        tolerance = params.shortfall.tolerance_days * measures["day_hours"]
        over_since: date | None = None
        for window in measures["shortfall"]["windows"]:
            if window["debt_hours"] > tolerance + 1e-9:
                if over_since is None:
                    over_since = date.fromisoformat(window["last_day"]) + timedelta(days=1)
            else:
                over_since = None
        if over_since is not None and over_since <= on:
            found.append(over_since)
    return min(found, default=None)


def describe(params: Params, context: DescribeContext) -> str:
    months = context.programme_months or 12
    full_time_days = (WORKING_DAYS_PER_YEAR - params.annual_leave_days) * params.percent
    sentences = [
        f"{percent(params.percent)} of your contracted working time is protected for learning "
        f"and development, pro rata if you work part-time: about "
        f"{number(round(full_time_days * months / 12))} days over a full-time "
        f"{months}-month programme, after bank holidays, {number(params.annual_leave_days)} "
        "days' annual leave a year and any time your programme is paused."
    ]
    checks = (params.diarised_ahead, params.on_track, params.rebooking, params.shortfall)
    sentences += [check.promise() for check in checks if check.enabled]
    return " ".join(sentences)
