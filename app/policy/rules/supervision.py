"""`supervision`: regular reflective supervision, and programme reviews held when due.

Supervision is reported as the most valued part of the programme and the first to
slip under pressure, so the gap since the last session held is measured against the
frequency expected at this point in the programme: by default weekly for the first 6
weeks, fortnightly to 6 months and monthly after. Gaps and stages are in programme
time, so a pause neither makes supervision overdue nor uses up the weekly weeks.

Review points (3, 6, 9, 12 months; 18 and 24 for SWIP) fall due on the programme's month
boundaries, which a pause moves later, or on the next working day when a boundary is a
weekend or bank holiday; a review not recorded within the grace period after its date is
overdue. While the programme is paused the frequency check finds nothing overdue.

One finding per rule (the worse of the two checks). The shipped policy lists two rules
of this kind, one per check, so that a missed review and a missed session are separate
breaches with their own severity.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from app.policy.causes import ResolutionCause
from app.policy.entitlement import add_working_days, count_days, pause_spans
from app.policy.findings import Finding, Outcome
from app.policy.programme import Clock, boundary_date, merged_pauses, programme_days
from app.policy.rules.base import DescribeContext, Loc, ParamProblems, RuleContext
from app.policy.rules.common import (
    EnforcementName,
    StrictParams,
    join_words,
    months_text,
    number,
    plural,
)
from app.policy.snapshot import Snapshot

if TYPE_CHECKING:
    from app.policy.policies import PolicySet

KIND = "supervision"
# The rule never looks at the caseload or a proposed case, so a what-if allocation check
# evaluates it once (app.policy.engine.evaluate_proposal).
reads_caseload = False
# It reads the supervision record: a breach that lifts with nothing else to explain it
# was lifted by supervision held or a review recorded.
reads_diary = True
diary_cause = ResolutionCause.supervision
# Days since the last supervision grow by themselves: a new figure is not news for the
# breach's history.
measured_by_time = True
SessionKind = Literal["reflective", "case", "joint_with_ap"]
KIND_WORDS = {
    "reflective": "reflective supervision",
    "case": "case supervision",
    "joint_with_ap": "joint supervision with an advanced practitioner",
}
# Months are compared with weeks only to check that bands are in order.
_DAYS_PER_MONTH = 30.44


class Band(StrictParams):
    """Sessions at least every `every_days` (programme days) until the given stage."""

    until_week: int | None = Field(default=None, ge=1)
    until_month: int | None = Field(default=None, ge=1)
    every_days: int = Field(ge=1, le=92)

    @model_validator(mode="after")
    def _one_end(self) -> Band:
        if self.until_week is not None and self.until_month is not None:
            raise ValueError("give until_week or until_month, not both")
        return self

    @property
    def open_ended(self) -> bool:
        return self.until_week is None and self.until_month is None

    def approx_days(self) -> float:
        if self.until_week is not None:
            return self.until_week * 7
        if self.until_month is not None:
            return self.until_month * _DAYS_PER_MONTH
        return float("inf")

    def covers(self, days: int, months: int) -> bool:
        if self.until_week is not None:
            return days < self.until_week * 7
        if self.until_month is not None:
            return months < self.until_month
        return True


DEFAULT_BANDS = (
    Band(until_week=6, every_days=7),
    Band(until_month=6, every_days=14),
    Band(every_days=31),
)


class Frequency(StrictParams):
    enabled: bool = True
    bands: tuple[Band, ...] = DEFAULT_BANDS
    grace_days: int = Field(default=0, ge=0, le=31, description="Days allowed past the gap.")
    counts: tuple[SessionKind, ...] = Field(
        default=("reflective", "case", "joint_with_ap"), min_length=1,
        description="Which kinds of session count as supervision.",
    )
    enforcement: EnforcementName | None = None

    @field_validator("bands")
    @classmethod
    def _ordered(cls, bands: tuple[Band, ...]) -> tuple[Band, ...]:
        problems: list[tuple[Loc, str]] = []
        if not bands:
            problems.append(((), "at least one band is required"))
        for index, band in enumerate(bands):
            if band.open_ended and index != len(bands) - 1:
                problems.append(((index,), "only the last band may leave out until_week and "
                                 "until_month"))
            if index and band.approx_days() <= bands[index - 1].approx_days():
                problems.append(((index,), f"band {index + 1} must end later than band {index}"))
        if bands and not bands[-1].open_ended:
            problems.append(((len(bands) - 1,), "the last band must leave out until_week and "
                             "until_month so that the rest of the programme is covered"))
        if problems:
            raise ParamProblems(problems)
        return bands


class Reviews(StrictParams):
    enabled: bool = True
    asye: tuple[int, ...] = (3, 6, 9, 12)
    swip: tuple[int, ...] = (3, 6, 9, 12, 18, 24)
    grace_working_days: int = Field(default=10, ge=0, le=60)
    enforcement: EnforcementName | None = None

    @field_validator("asye", "swip")
    @classmethod
    def _increasing(cls, months: tuple[int, ...]) -> tuple[int, ...]:
        problems: list[tuple[Loc, str]] = [
            ((index,), f"review month {month} must come after month {months[index - 1]}")
            for index, month in enumerate(months)
            if index and month <= months[index - 1]
        ]
        problems += [((index,), f"review month {month} must be at least 1")
                     for index, month in enumerate(months) if month < 1]
        if problems:
            raise ParamProblems(problems)
        return months

    def months_for(self, programme: str) -> tuple[int, ...]:
        return self.swip if programme == "swip" else self.asye


# The review points when no active `supervision` rule sets them (or no policies are
# loaded): the rule kind's defaults, which the shipped policy repeats: 3, 6, 9 and 12
# months, and 18 and 24 on SWIP.
DEFAULT_REVIEWS = Reviews()


class Params(StrictParams):
    frequency: Frequency = Frequency()
    reviews: Reviews = DEFAULT_REVIEWS


def active_part(policy_set: PolicySet, programme: str, part: str) -> Any | None:
    """`part` (frequency or reviews) of the first active rule of this kind that enables it.

    None when no rule active for the programme enables it: nothing is expected.
    """
    for rule in policy_set.rules_for(programme):
        if rule.kind == KIND:
            section = getattr(rule.params, part)
            if section.enabled:
                return section
    return None


def review_months(policy_set: PolicySet | None, programme: str) -> tuple[int, ...]:
    """The programme months the active supervision policy reviews an NQSW at.

    The policy is the one source of these points (the NQSW's progress, the next review
    in the workload measures, the calendar and the review log all ask here); without an
    active rule that enables reviews, `DEFAULT_REVIEWS` applies.
    """
    reviews: Reviews | None = (
        active_part(policy_set, programme, "reviews") if policy_set is not None else None
    )
    return (reviews if reviews is not None else DEFAULT_REVIEWS).months_for(programme)


def programme_problems(params: Params, months: int) -> list[tuple[Loc, str]]:
    reviews = params.reviews
    field = "swip" if months > 12 else "asye"
    listed = reviews.months_for(field)
    return [
        (("reviews", field, index), f"review month {month} is after the programme's end")
        for index, month in enumerate(listed)
        if month > months
    ]


def how_often(days: int) -> str:
    if days == 7:
        return "weekly"
    if days == 14:
        return "fortnightly"
    if 28 <= days <= 31:
        return "monthly"
    return f"at least every {plural(days, 'day')}"


def _date_after_programme_days(snapshot: Snapshot, first: date, days: int) -> date | None:
    """The first date on which `days` programme days have passed since `first`.

    Walks the (merged) pauses after `first`: the working stretch before each pause counts,
    the pause itself does not. None while an open pause stops the clock before then.
    """
    remaining, cursor = days, first
    for start, end in merged_pauses(snapshot.pauses, snapshot.programme_start):
        if end is not None and end < cursor:
            continue
        if start > cursor:
            available = (start - cursor).days
            if remaining <= available:
                return cursor + timedelta(days=remaining)
            remaining -= available
        if end is None:
            return None
        cursor = max(cursor, end + timedelta(days=1))
    return cursor + timedelta(days=remaining)


def paused_on(snapshot: Snapshot, day: date) -> bool:
    """Whether `day` is inside one of the programme's pauses (an open one never ends)."""
    return any(p.start <= day and (p.end is None or day <= p.end) for p in snapshot.pauses)


def frequency_measures(snapshot: Snapshot, params: Frequency, clock: Clock) -> dict[str, Any]:
    """The gap since the last session held and the gap allowed at this stage.

    While the programme is paused the clock is stopped: nothing is overdue, whatever the
    gap was when the pause began. Sessions dated inside a pause do not count (the service
    refuses them; one recorded before a back-dated pause is simply not programme time).
    After the return the gap carries on in programme time from the last session held
    before the pause, so a gap already too long then is overdue again on return.
    """
    on = snapshot.as_of
    band = next(b for b in params.bands if b.covers(clock.days, clock.months))
    held = sorted(
        (s for s in snapshot.supervision
         if not s.cancelled and s.kind in params.counts
         and snapshot.programme_start <= s.day <= on and not paused_on(snapshot, s.day)),
        key=lambda s: s.day,
    )
    cancelled = [s for s in snapshot.supervision if s.cancelled and s.day <= on]
    last = held[-1].day if held else None
    since = last or snapshot.programme_start
    gap = clock.days - programme_days(snapshot, since)
    allowed = band.every_days + params.grace_days
    due = _date_after_programme_days(snapshot, since, allowed + 1)
    paused = paused_on(snapshot, on)
    if paused:
        due = _after_the_pause(snapshot, on, due)
    return {
        "last_session": last.isoformat() if last else None,
        "sessions_held": len(held),
        "sessions_cancelled": len(cancelled),
        "gap_days": gap,
        "every_days": band.every_days,
        "allowed_days": allowed,
        "frequency": how_often(band.every_days),
        "overdue": gap > allowed and not paused,
        "overdue_from": due.isoformat() if due else None,
        "paused": paused,
    }


def _after_the_pause(snapshot: Snapshot, on: date, due: date | None) -> date | None:
    """While paused, the date supervision is overdue from is never inside the pause: a gap
    already too long is overdue again on the first day back (unknown while the pause is
    open)."""
    ends = [p.end for p in snapshot.pauses if p.start <= on and (p.end is None or on <= p.end)]
    if not ends or any(end is None for end in ends):
        return None
    back = max(end for end in ends if end is not None) + timedelta(days=1)
    return back if due is None or due < back else due


def next_working_day(day: date, holidays_: frozenset[date]) -> date:
    """`day` itself if it is a working day, else the first weekday after it that is not a
    bank holiday."""
    while day.weekday() >= 5 or day in holidays_:
        day += timedelta(days=1)
    return day


def review_due_date(snapshot: Snapshot, month: int) -> date | None:
    """The date the month-N review is due: the programme's month boundary (which pauses
    move later), or the next working day when the boundary is a weekend or a bank holiday,
    since nobody holds a review then. None while an open pause stops the clock first.

    Every place that shows a review's date asks here, so the review log, the calendar and
    the overdue finding agree.
    """
    boundary = boundary_date(snapshot, month)
    return None if boundary is None else next_working_day(boundary, snapshot.bank_holidays)


def review_schedule(snapshot: Snapshot, params: Reviews) -> list[dict[str, Any]]:
    """Each review point with its due date (pauses included), when held and if overdue."""
    on = snapshot.as_of
    held = {r.month: r.held_on for r in snapshot.reviews}
    spans = pause_spans(snapshot.pauses, snapshot.programme_start)
    closed = tuple((first, last if last is not None else max(on, first)) for first, last in spans)
    points = []
    for month in params.months_for(snapshot.programme):
        boundary = boundary_date(snapshot, month)
        due = None if boundary is None else next_working_day(boundary, snapshot.bank_holidays)
        held_on = held.get(month)
        late_by = 0
        if held_on is None and due is not None and due < on:
            late_by = count_days(due + timedelta(days=1), on, spans=closed,
                                 holidays_=snapshot.bank_holidays).working
        points.append({
            "month": month,
            "due": due.isoformat() if due else None,
            "month_boundary": boundary.isoformat() if boundary else None,
            "held_on": held_on.isoformat() if held_on else None,
            "working_days_late": late_by,
            "overdue": held_on is None and late_by > params.grace_working_days,
        })
    return points


def measure(snapshot: Snapshot, params: Params) -> dict[str, Any]:
    """Every number the rule looks at; the supervision API shows the same ones."""
    clock = Clock.of(snapshot)
    result: dict[str, Any] = {"programme_days": clock.days, "programme_months": clock.months}
    if params.frequency.enabled:
        result["frequency"] = frequency_measures(snapshot, params.frequency, clock)
    if params.reviews.enabled:
        result["reviews"] = review_schedule(snapshot, params.reviews)
    return result


def evaluate(snapshot: Snapshot, params: Params, context: RuleContext) -> Finding:
    if snapshot.as_of < snapshot.programme_start:
        return context.finding(Outcome.ok, "The programme has not started yet.")
    details = measure(snapshot, params)
    failing: list[tuple[str, float, float, EnforcementName | None]] = []
    began: list[date] = []
    fine: list[str] = []
    freq = details.get("frequency")
    if freq is not None and freq["paused"]:
        fine.append("the programme is paused, so the supervision clock is stopped and "
                    "nothing is overdue")
    elif freq is not None:
        last = f"the last on {freq['last_session']}" if freq["last_session"] else "none yet"
        text = (f"{plural(freq['gap_days'], 'day')} since supervision ({last}); expected "
                f"{freq['frequency']} at this stage")
        if freq["overdue"]:
            failing.append((f"supervision is overdue: {text}", freq["gap_days"],
                            freq["allowed_days"], params.frequency.enforcement))
            if freq["overdue_from"]:
                began.append(date.fromisoformat(freq["overdue_from"]))
        else:
            fine.append(text)
    reviews = details.get("reviews")
    if reviews is not None:
        overdue = [r for r in reviews if r["overdue"]]
        if overdue:
            listed = ", ".join(f"the {r['month']}-month review (due {r['due']})"
                               for r in overdue)
            failing.append((f"{listed} {'is' if len(overdue) == 1 else 'are'} overdue, not "
                            f"recorded within {params.reviews.grace_working_days} working days",
                            float(len(overdue)), 0.0, params.reviews.enforcement))
            began += _reviews_overdue_from(snapshot, overdue, params.reviews)
        else:
            upcoming = next((r for r in reviews if r["held_on"] is None), None)
            fine.append(
                f"the next review is the {upcoming['month']}-month one, due "
                f"{upcoming['due'] or 'when the pause ends'}" if upcoming
                else "every review has been held"
            )
    if not failing:
        measured = freq["gap_days"] if freq else None
        limit = freq["allowed_days"] if freq else None
        text = "; ".join(fine)
        return context.finding(Outcome.ok, text[:1].upper() + text[1:] + ".",
                               measured=measured, limit=limit, details=details)
    outcome = Outcome.ok
    for _, _, _, enforcement in failing:
        candidate = Outcome(enforcement) if enforcement else context.enforcement
        if candidate.rank > outcome.rank:
            outcome = candidate
    text = "; ".join(f[0] for f in failing)
    return context.finding(outcome, text[:1].upper() + text[1:] + ".", measured=failing[0][1],
                           limit=failing[0][2], details=details,
                           began_on=min(began, default=None))


def _reviews_overdue_from(
    snapshot: Snapshot, overdue: list[dict[str, Any]], params: Reviews
) -> list[date]:
    """The day each overdue review became overdue: the working day after its grace ran
    out (bank holidays and paused days do not count, as in `review_schedule`)."""
    on = snapshot.as_of
    spans = pause_spans(snapshot.pauses, snapshot.programme_start)
    closed = tuple((first, last if last is not None else max(on, first)) for first, last in spans)
    found = []
    for review in overdue:
        if not review["due"]:
            continue
        when = add_working_days(date.fromisoformat(review["due"]),
                                params.grace_working_days + 1, spans=closed,
                                holidays_=snapshot.bank_holidays)
        if when is not None and when <= on:
            found.append(when)
    return found


def _band_words(bands: tuple[Band, ...]) -> str:
    parts = []
    for index, band in enumerate(bands):
        often = how_often(band.every_days)
        if band.until_week is not None:
            span = (f"for your first {plural(band.until_week, 'week')}" if index == 0
                    else f"until week {band.until_week}")
        elif band.until_month is not None:
            span = (f"for your first {months_text(band.until_month)}" if index == 0
                    else f"until {months_text(band.until_month)}")
        else:
            span = "throughout" if index == 0 else "after that"
        parts.append(f"{often} {span}")
    return join_words(parts)


def describe(params: Params, context: DescribeContext) -> str:
    sentences = []
    freq = params.frequency
    if freq.enabled:
        kinds = join_words([KIND_WORDS[k] for k in freq.counts], "or")
        text = f"You will have supervision {_band_words(freq.bands)} ({kinds} all count)"
        if len(freq.counts) == 1:
            text = f"You will have {kinds} {_band_words(freq.bands)}"
        if freq.grace_days:
            text += f", with {plural(freq.grace_days, 'day')} of leeway"
        sentences.append(text + ". A pause in your programme stops this clock: nothing is "
                         "overdue while you are away.")
    reviews = params.reviews
    if reviews.enabled:
        months = reviews.months_for(context.programme or "asye")
        if context.programme is None:
            listed = (f"{join_words([number(m) for m in reviews.asye])} months "
                      f"({join_words([number(m) for m in reviews.swip])} on SWIP)")
        else:
            listed = f"{join_words([number(m) for m in months])} months"
        sentences.append(
            f"Your programme is reviewed at {listed}, moved later by any pause (and to the "
            "next working day if the date is a weekend or bank holiday); a review not "
            f"recorded within {plural(reviews.grace_working_days, 'working day')} of its date "
            "is flagged."
        )
    return " ".join(sentences) or "No supervision expectations are set."
