"""`protected_time`: diarised ahead, on track, rebooking and the shortfall carried forward."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import holidays
import pytest

from app.policy.categories import BUILTIN_CATEGORIES
from app.policy.engine import evaluate
from app.policy.findings import Finding, Outcome
from app.policy.policies import PolicySet, Rule
from app.policy.programme import Clock
from app.policy.rules import protected_time
from app.policy.rules.base import DescribeContext, RuleContext
from app.policy.snapshot import AdjustmentRecord, PauseSpan, ProtectedTimeEntry, Snapshot

from .conftest import activate

START = date(2026, 9, 1)  # a Tuesday
BH = frozenset(holidays.country_holidays("GB", subdiv="ENG", years=range(2026, 2030)))
RULE = "protected-time"


def entry(
    day: date, status: str = "booked", hours: float = 7.4, *, cancelled_on: date | None = None,
    rebooked: bool = False, entry_id: int | None = None,
) -> ProtectedTimeEntry:
    return ProtectedTimeEntry(day=day, hours=hours, status=status,  # type: ignore[arg-type]
                              cancelled_on=cancelled_on, rebooked=rebooked, entry_id=entry_id)


def snap(
    on: date, entries: Iterable[ProtectedTimeEntry] = (), *, start: date = START,
    programme: str = "asye", pauses: Iterable[PauseSpan] = (), contracted_hours: float = 37.0,
    fte: float = 1.0, adjustments: Iterable[AdjustmentRecord] = (),
) -> Snapshot:
    return Snapshot(
        staff_id=1, enrolment_id=1, programme=programme,  # type: ignore[arg-type]
        programme_start=start, as_of=on, fte=fte, contracted_hours=contracted_hours,
        pauses=tuple(pauses), adjustments=tuple(adjustments),
        protected_time=tuple(entries), bank_holidays=BH,
    )


def fortnightly(until: date, *, taken_until: date | None) -> list[ProtectedTimeEntry]:
    """A full day every other Wednesday of the year, taken up to `taken_until`."""
    days, day = [], date(2026, 9, 2)
    while day <= until:
        taken = taken_until is not None and day <= taken_until
        days.append(entry(day, "taken" if taken else "booked"))
        day += timedelta(days=14)
    return days


@pytest.fixture(scope="module")
def policies(shipped: PolicySet) -> PolicySet:
    return activate(shipped, "protected-time")


def finding_for(policies: PolicySet, s: Snapshot) -> Finding:
    found = [f for f in evaluate(s, policies) if f.rule_id == RULE]
    assert len(found) == 1
    return found[0]


def check(finding: Finding, name: str) -> dict[str, Any]:
    return next(c for c in finding.details["checks"] if c["check"] == name)


def direct(params: protected_time.Params, s: Snapshot) -> Finding:
    """The rule on its own, with parameters given here rather than in a policy file."""
    rule = Rule(policy_id="p", id="r", kind="protected_time", impl=protected_time,  # type: ignore[arg-type]
                params=params, enforcement=Outcome.warn)
    context = RuleContext(rule, Clock.of(s), {}, BUILTIN_CATEGORIES)
    return protected_time.evaluate(s, params, context)


def test_nothing_diarised_by_week_six_is_a_warning(policies: PolicySet) -> None:
    early = finding_for(policies, snap(date(2026, 10, 5)))  # 5 weeks in: not yet due
    assert early.outcome is Outcome.ok
    assert check(early, "diarised_ahead")["ok"]
    late = finding_for(policies, snap(date(2026, 10, 12)))  # 6 weeks completed
    assert late.outcome is Outcome.warn
    ahead = check(late, "diarised_ahead")
    assert not ahead["ok"]
    assert "should be by week 6 of programme year 1" in late.reason
    assert late.details["year"]["entitlement_hours"] == pytest.approx(167.97, abs=0.01)
    assert ahead["limit"] == pytest.approx(167.97 / 2, abs=0.01)


def test_a_fortnightly_plan_that_is_taken_is_on_track(policies: PolicySet) -> None:
    on = date(2026, 11, 2)  # programme week 9
    entries = fortnightly(date(2027, 8, 31), taken_until=on)
    finding = finding_for(policies, snap(on, entries))
    assert finding.outcome is Outcome.ok, finding.reason
    assert finding.reason.startswith("Protected time is on track")
    assert finding.details["taken_hours"] == pytest.approx(5 * 7.4)
    assert check(finding, "on_track")["ok"]
    assert finding.details["shortfall"]["debt_hours"] == 0


def test_booked_but_never_taken_falls_behind(policies: PolicySet) -> None:
    on = date(2026, 11, 2)
    finding = finding_for(policies, snap(on, fortnightly(date(2027, 8, 31), taken_until=None)))
    assert finding.outcome is Outcome.warn
    assert not check(finding, "on_track")["ok"]
    assert check(finding, "diarised_ahead")["ok"]
    # Six weeks (Sep 1 to Oct 12) earned about 19.9 hours and none was taken.
    window = finding.details["shortfall"]["windows"][0]
    assert (window["first_day"], window["last_day"]) == ("2026-09-01", "2026-10-12")
    assert window["expected_hours"] == pytest.approx(30 * 0.74 * (1 - 26 / 252.89), abs=0.01)
    assert not check(finding, "shortfall")["ok"]
    assert "0 h taken of" in finding.reason


def test_on_track_is_not_judged_before_its_week(policies: PolicySet) -> None:
    finding = finding_for(policies, snap(date(2026, 10, 20), fortnightly(
        date(2027, 8, 31), taken_until=None)))
    assert check(finding, "on_track")["ok"]
    assert "judged from week 8" in check(finding, "on_track")["text"]


def test_cancelled_time_must_be_rebooked_within_ten_working_days(policies: PolicySet) -> None:
    plan = fortnightly(date(2027, 8, 31), taken_until=date(2027, 3, 17))
    cancelled = entry(date(2027, 3, 24), "cancelled", cancelled_on=date(2027, 3, 18),
                      entry_id=7)
    # Friday 19 March to Thursday 1 April is 8 working days: Good Friday (26 March) and
    # Easter Monday (29 March) are bank holidays and do not count.
    inside = finding_for(policies, snap(date(2027, 4, 1), [*plan, cancelled]))
    rebook = check(inside, "rebooking")
    assert rebook["ok"]
    assert inside.details["awaiting_rebooking"][0]["working_days_waiting"] == 8
    late = finding_for(policies, snap(date(2027, 4, 6), [*plan, cancelled]))
    assert not check(late, "rebooking")["ok"]
    assert late.details["awaiting_rebooking"][0]["working_days_waiting"] == 11
    assert "not rebooked within 10 working days: 2027-03-24" in late.reason
    done = replace_entry(cancelled, rebooked=True)
    assert check(finding_for(policies, snap(date(2027, 4, 6), [*plan, done])), "rebooking")["ok"]


def replace_entry(item: ProtectedTimeEntry, **changes: Any) -> ProtectedTimeEntry:
    from dataclasses import replace

    return replace(item, **changes)


def test_displaced_time_waits_while_the_pause_lasts(policies: PolicySet) -> None:
    displaced = entry(date(2027, 1, 13), "displaced", cancelled_on=date(2027, 1, 4))
    open_pause = PauseSpan(start=date(2027, 1, 4), end=None, reason="health")
    during = finding_for(policies, snap(date(2027, 3, 1), [displaced], pauses=[open_pause]))
    assert during.details["awaiting_rebooking"][0]["working_days_waiting"] == 0
    assert check(during, "rebooking")["ok"]
    closed = PauseSpan(start=date(2027, 1, 4), end=date(2027, 2, 28), reason="health")
    back = finding_for(policies, snap(date(2027, 3, 16), [displaced], pauses=[closed]))
    assert back.details["awaiting_rebooking"][0]["working_days_waiting"] == 12
    assert not check(back, "rebooking")["ok"]


def test_the_shortfall_is_carried_forward_and_paid_off() -> None:
    params = protected_time.Params(
        diarised_ahead=protected_time.DiarisedAhead(enabled=False),
        on_track=protected_time.OnTrack(enabled=False),
        rebooking=protected_time.Rebooking(enabled=False),
        shortfall=protected_time.Shortfall(window_weeks=4, tolerance_days=1),
    )
    # Nothing in the first four weeks (Sep 1-28), then four days in the second window:
    # its own share and the first window's debt.
    catch_up = [entry(date(2026, 10, d), "taken") for d in (7, 14, 20, 21)]
    behind = direct(params, snap(date(2026, 10, 6)))
    assert behind.outcome is Outcome.warn
    owed = behind.details["shortfall"]["debt_hours"]
    assert owed == pytest.approx(20 * 0.74 * (1 - 26 / 252.89), abs=0.01)
    assert owed > 7.4
    paid = direct(params, snap(date(2026, 10, 27), catch_up))
    assert paid.outcome is Outcome.ok
    windows = paid.details["shortfall"]["windows"]
    assert [w["debt_hours"] for w in windows][-1] == 0
    # Time taken early is not banked: a later empty window owes its full share again.
    early = [entry(date(2026, 9, d), "taken") for d in (2, 9, 16, 23)]
    again = direct(params, snap(date(2026, 11, 24), early))
    assert again.details["shortfall"]["windows"][0]["debt_hours"] == 0
    assert again.details["shortfall"]["windows"][1]["debt_hours"] > 7.4
    assert again.outcome is Outcome.warn


def test_a_check_may_block_on_its_own() -> None:
    params = protected_time.Params(on_track=protected_time.OnTrack(enforcement="block"))
    finding = direct(params, snap(date(2026, 11, 2), fortnightly(date(2027, 8, 31),
                                                                 taken_until=None)))
    assert finding.outcome is Outcome.block


def test_part_time_entitlement_in_the_finding(policies: PolicySet) -> None:
    ft = finding_for(policies, snap(date(2026, 12, 1)))
    pt = finding_for(policies, snap(date(2026, 12, 1), contracted_hours=22.2, fte=0.6))
    assert pt.details["entitlement_hours"] == pytest.approx(ft.details["entitlement_hours"] * 0.6,
                                                            abs=0.02)
    assert pt.details["accrued_hours"] == pytest.approx(ft.details["accrued_hours"] * 0.6,
                                                        abs=0.02)
    assert pt.details["day_hours"] == pytest.approx(7.4)


def test_an_individual_agreement_changes_the_percentage(policies: PolicySet) -> None:
    agreed = AdjustmentRecord(policy_id="protected-time", parameter="percent", value=0.2,
                              reason="extra study time agreed", valid_from=START,
                              adjustment_id=3)
    plain = finding_for(policies, snap(date(2026, 12, 1)))
    more = finding_for(policies, snap(date(2026, 12, 1), adjustments=[agreed]))
    assert more.details["entitlement_hours"] == pytest.approx(
        plain.details["entitlement_hours"] * 2, abs=0.02)
    assert more.adjusted_by == (3,)


def test_before_the_programme_starts_nothing_is_owed(policies: PolicySet) -> None:
    assert finding_for(policies, snap(START - timedelta(days=3))).outcome is Outcome.ok


def test_swip_diarises_each_programme_year(policies: PolicySet) -> None:
    on = date(2027, 10, 20)  # week 7 of the second year
    first_year_only = fortnightly(date(2027, 8, 31), taken_until=on)
    finding = finding_for(policies, snap(on, first_year_only, programme="swip"))
    year = finding.details["year"]
    assert (year["index"], year["first_day"]) == (2, "2027-09-01")
    assert year["in_diary_hours"] == 0
    assert not check(finding, "diarised_ahead")["ok"]


def test_the_promise_reads_plainly(policies: PolicySet) -> None:
    rule = policies.rule("protected-time", "protected-time")
    text = protected_time.describe(
        rule.params, DescribeContext(rule, BUILTIN_CATEGORIES, "asye", 12)  # type: ignore[arg-type]
    )
    assert text.startswith("10% of your contracted working time is protected")
    assert "about 23 days over a full-time 12-month programme" in text
    assert "rebooked within 10 working days" in text


def test_days_gone_by_without_being_taken_are_not_in_the_diary(policies: PolicySet) -> None:
    """Diarised ahead counts time taken and time still ahead; a booking whose day has
    passed without being marked taken has lapsed."""
    days = [date(2026, 9, 2) + timedelta(days=7 * i) for i in range(12)]  # Wednesdays
    on = date(2026, 10, 12)  # six weeks completed; the first six Wednesdays are past
    finding = finding_for(policies, snap(on, [entry(d) for d in days]))
    ahead = check(finding, "diarised_ahead")
    assert ahead["measured"] == pytest.approx(6 * 7.4)
    assert not ahead["ok"]
    assert finding.details["lapsed_hours"] == pytest.approx(6 * 7.4)
    assert finding.details["booked_hours"] == pytest.approx(6 * 7.4)
    taken = [entry(d, "taken" if d < on else "booked") for d in days]
    finding = finding_for(policies, snap(on, taken))
    assert check(finding, "diarised_ahead")["measured"] == pytest.approx(12 * 7.4)
    assert check(finding, "diarised_ahead")["ok"]
    assert finding.details["lapsed_hours"] == 0
