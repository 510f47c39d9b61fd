"""`supervision`: frequency by programme time, pauses stopping the clock, review points."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path

import holidays
import pytest
from pydantic import ValidationError

from app.policy.categories import BUILTIN_CATEGORIES
from app.policy.engine import evaluate, workload_measures
from app.policy.findings import Finding, Outcome
from app.policy.policies import PolicySet
from app.policy.registry import load_policy_set
from app.policy.rules import supervision
from app.policy.rules.base import DescribeContext
from app.policy.snapshot import PauseSpan, ReviewRecord, Snapshot, SupervisionRecord

from .conftest import POLICY_DIR, activate

START = date(2026, 1, 5)  # a Monday
BH = frozenset(holidays.country_holidays("GB", subdiv="ENG", years=range(2026, 2030)))
DAY = timedelta(days=1)


def held(*days: date, kind: str = "reflective", cancelled: bool = False
         ) -> tuple[SupervisionRecord, ...]:
    return tuple(SupervisionRecord(day=d, kind=kind, cancelled=cancelled) for d in days)


def snap(
    on: date, sessions: Iterable[SupervisionRecord] = (), *, start: date = START,
    programme: str = "asye", pauses: Iterable[PauseSpan] = (),
    reviews: Iterable[ReviewRecord] = (),
) -> Snapshot:
    return Snapshot(
        staff_id=1, enrolment_id=1, programme=programme,  # type: ignore[arg-type]
        programme_start=start, as_of=on, pauses=tuple(pauses), supervision=tuple(sessions),
        reviews=tuple(reviews), bank_holidays=BH,
    )


@pytest.fixture(scope="module")
def policies(shipped: PolicySet) -> PolicySet:
    return activate(shipped, "supervision")


def finding(policies: PolicySet, s: Snapshot, rule_id: str) -> Finding:
    found = [f for f in evaluate(s, policies) if f.rule_id == rule_id]
    assert len(found) == 1
    return found[0]


def frequency(policies: PolicySet, s: Snapshot) -> Finding:
    return finding(policies, s, "supervision-frequency")


def reviews(policies: PolicySet, s: Snapshot) -> Finding:
    return finding(policies, s, "review-points")


def test_overdue_supervision_in_week_three(policies: PolicySet) -> None:
    sessions = held(date(2026, 1, 5), date(2026, 1, 12))
    on_time = frequency(policies, snap(date(2026, 1, 19), sessions))  # 7 days on
    assert on_time.outcome is Outcome.ok
    assert on_time.measured == 7 and on_time.limit == 7
    late = frequency(policies, snap(date(2026, 1, 20), sessions))  # week 3, 8 days on
    assert late.outcome is Outcome.warn
    assert late.details["frequency"]["overdue_from"] == "2026-01-20"
    assert late.reason == (
        "Supervision is overdue: 8 days since supervision (the last on 2026-01-12); "
        "expected weekly at this stage."
    )


def test_no_session_at_all_is_overdue_after_the_first_week(policies: PolicySet) -> None:
    assert frequency(policies, snap(date(2026, 1, 12))).outcome is Outcome.ok
    late = frequency(policies, snap(date(2026, 1, 13)))
    assert late.outcome is Outcome.warn
    assert "none yet" in late.reason


def test_cancelled_sessions_do_not_count(policies: PolicySet) -> None:
    sessions = (*held(date(2026, 1, 5)), *held(date(2026, 1, 12), cancelled=True))
    late = frequency(policies, snap(date(2026, 1, 14), sessions))
    assert late.outcome is Outcome.warn
    assert late.details["frequency"]["sessions_cancelled"] == 1


def test_fortnightly_after_six_weeks_and_monthly_after_six_months(policies: PolicySet) -> None:
    week_six = START + timedelta(days=42)
    last = held(week_six - DAY)
    assert frequency(policies, snap(week_six - DAY + timedelta(days=14), last)).outcome is (
        Outcome.ok)
    assert frequency(policies, snap(week_six - DAY + timedelta(days=15), last)).outcome is (
        Outcome.warn)
    month_six = date(2026, 7, 5)
    monthly = held(month_six)
    ok = frequency(policies, snap(month_six + timedelta(days=31), monthly))
    assert ok.outcome is Outcome.ok and ok.details["frequency"]["frequency"] == "monthly"
    assert frequency(policies, snap(month_six + timedelta(days=32), monthly)).outcome is (
        Outcome.warn)


def test_a_pause_stops_the_supervision_clock(policies: PolicySet) -> None:
    pause = PauseSpan(start=date(2026, 3, 2), end=date(2026, 5, 31), reason="health")
    last = held(date(2026, 2, 26))
    # Four days before the pause and three after it: 7 programme days, although more
    # than three months have passed. Past week 6, supervision is fortnightly.
    back = frequency(policies, snap(date(2026, 6, 4), last, pauses=[pause]))
    assert back.outcome is Outcome.ok
    assert back.details["frequency"]["gap_days"] == 7
    assert back.details["frequency"]["frequency"] == "fortnightly"
    late = frequency(policies, snap(date(2026, 6, 12), last, pauses=[pause]))
    assert late.details["frequency"]["gap_days"] == 15
    assert late.outcome is Outcome.warn


def test_review_points_fall_due_and_go_overdue(policies: PolicySet) -> None:
    start = date(2026, 1, 15)
    due = date(2026, 4, 15)
    # Ten working days' grace: due Wednesday 15 April, overdue after Wednesday 29 April.
    assert reviews(policies, snap(date(2026, 4, 29), start=start)).outcome is Outcome.ok
    late = reviews(policies, snap(date(2026, 4, 30), start=start))
    assert late.outcome is Outcome.warn
    assert "The 3-month review (due 2026-04-15) is overdue" in late.reason
    points = late.details["reviews"]
    assert [p["month"] for p in points] == [3, 6, 9, 12]
    assert points[0]["due"] == due.isoformat()
    done = reviews(policies, snap(date(2026, 4, 30), start=start,
                                  reviews=[ReviewRecord(month=3, held_on=date(2026, 4, 20))]))
    assert done.outcome is Outcome.ok
    assert "The next review is the 6-month one, due 2026-07-15" in done.reason


def test_review_points_shifted_by_a_pause(policies: PolicySet) -> None:
    """A maternity pause across the 6-month boundary moves every later review."""
    start = date(2026, 1, 15)
    pause = PauseSpan(start=date(2026, 6, 1), end=date(2026, 9, 30), reason="maternity")
    length = timedelta(days=122)
    on = date(2026, 10, 15)
    found = reviews(policies, snap(on, start=start, pauses=[pause],
                                   reviews=[ReviewRecord(3, date(2026, 4, 15))]))
    due = {p["month"]: p["due"] for p in found.details["reviews"]}
    boundary = {p["month"]: p["month_boundary"] for p in found.details["reviews"]}
    assert due[3] == boundary[3] == "2026-04-15"  # before the pause: unchanged
    assert boundary[6] == (date(2026, 7, 15) + length).isoformat() == "2026-11-14"
    assert due[6] == "2026-11-16"  # the boundary is a Saturday: due on the Monday
    assert due[12] == boundary[12] == (date(2027, 1, 15) + length).isoformat()
    assert found.outcome is Outcome.ok
    # While the pause is open, later reviews have no date yet and nothing is overdue.
    open_pause = PauseSpan(start=date(2026, 6, 1), end=None, reason="maternity")
    waiting = reviews(policies, snap(date(2026, 8, 1), start=start, pauses=[open_pause],
                                     reviews=[ReviewRecord(3, date(2026, 4, 15))]))
    assert [p["due"] for p in waiting.details["reviews"]][1:] == [None, None, None]
    assert waiting.outcome is Outcome.ok
    assert "due when the pause ends" in waiting.reason


def test_swip_has_reviews_at_18_and_24_months(policies: PolicySet) -> None:
    found = reviews(policies, snap(date(2026, 2, 1), programme="swip"))
    assert [p["month"] for p in found.details["reviews"]] == [3, 6, 9, 12, 18, 24]


def test_review_months_are_the_active_policys(policies: PolicySet, tmp_path: Path) -> None:
    assert supervision.review_months(policies, "asye") == (3, 6, 9, 12)
    assert supervision.review_months(policies, "swip") == (3, 6, 9, 12, 18, 24)
    # Nothing active that sets them (or no policies at all): the documented defaults.
    assert supervision.review_months(activate(policies, "stage-caps"), "asye") == (3, 6, 9, 12)
    assert supervision.review_months(None, "swip") == supervision.DEFAULT_REVIEWS.swip
    # The organisation's own points, read from its file, are what the engine reports.
    directory = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, directory)
    path = directory / "supervision.toml"
    path.write_text(path.read_text().replace("asye = [3, 6, 9, 12]", "asye = [4, 8, 12]"))
    own = load_policy_set(directory)
    assert supervision.review_months(own, "asye") == (4, 8, 12)
    at_month_four = snap(date(2026, 5, 20), start=date(2026, 1, 15))
    assert workload_measures(at_month_four, own)["stage"]["next_review"] == {
        "month": 8, "date": "2026-09-15"}
    assert workload_measures(at_month_four, policies)["stage"]["next_review"] == {
        "month": 6, "date": "2026-07-15"}


def test_parameters_are_checked() -> None:
    with pytest.raises(ValidationError, match="only the last band"):
        supervision.Frequency(bands=(supervision.Band(every_days=7),
                                     supervision.Band(until_month=6, every_days=14)))
    with pytest.raises(ValidationError, match="must end later"):
        supervision.Frequency(bands=(supervision.Band(until_month=6, every_days=7),
                                     supervision.Band(until_week=6, every_days=14),
                                     supervision.Band(every_days=30)))
    with pytest.raises(ValidationError, match="not both"):
        supervision.Band(until_week=6, until_month=2, every_days=7)
    with pytest.raises(ValidationError, match="must come after"):
        supervision.Reviews(asye=(3, 3, 12))
    params = supervision.Params(reviews=supervision.Reviews(asye=(3, 6, 12, 18)))
    problems = supervision.programme_problems(params, 12)
    assert problems == [(("reviews", "asye", 3), "review month 18 is after the programme's end")]


def test_the_promise_reads_plainly(policies: PolicySet) -> None:
    rule = policies.rule("supervision", "supervision-frequency")
    text = supervision.describe(rule.params,  # type: ignore[arg-type]
                                DescribeContext(rule, BUILTIN_CATEGORIES, "asye", 12))
    assert text.startswith(
        "You will have supervision weekly for your first 6 weeks, fortnightly until 6 months "
        "and monthly after that"
    )
    reviews_rule = policies.rule("supervision", "review-points")
    text = supervision.describe(reviews_rule.params,  # type: ignore[arg-type]
                                DescribeContext(reviews_rule, BUILTIN_CATEGORIES, "swip", 24))
    assert "3, 6, 9, 12, 18 and 24 months" in text


def test_nothing_is_overdue_while_the_programme_is_paused(policies: PolicySet) -> None:
    """Overdue when a maternity pause begins: the clock stops, so the finding clears for
    the pause (the breach does not escalate), and the gap resumes on return."""
    sessions = held(date(2026, 1, 5), date(2026, 1, 12))
    before = frequency(policies, snap(date(2026, 1, 23), sessions))
    assert before.outcome is Outcome.warn
    open_pause = PauseSpan(start=date(2026, 1, 26), end=None, reason="maternity")
    during = frequency(policies, snap(date(2026, 3, 2), sessions, pauses=[open_pause]))
    assert during.outcome is Outcome.ok
    assert during.details["frequency"]["paused"] is True
    assert during.details["frequency"]["overdue"] is False
    assert during.details["frequency"]["overdue_from"] is None
    assert during.reason.startswith("The programme is paused")
    closed = PauseSpan(start=date(2026, 1, 26), end=date(2026, 5, 31), reason="maternity")
    still = frequency(policies, snap(date(2026, 5, 31), sessions, pauses=[closed]))
    assert still.outcome is Outcome.ok
    back = frequency(policies, snap(date(2026, 6, 1), sessions, pauses=[closed]))
    assert back.outcome is Outcome.warn
    assert back.details["frequency"]["gap_days"] == 14


def test_sessions_inside_a_pause_do_not_count(policies: PolicySet) -> None:
    pause = PauseSpan(start=date(2026, 3, 2), end=date(2026, 5, 31), reason="health")
    sessions = held(date(2026, 2, 26), date(2026, 4, 15))
    found = frequency(policies, snap(date(2026, 6, 12), sessions, pauses=[pause]))
    assert found.details["frequency"]["last_session"] == "2026-02-26"
    assert found.details["frequency"]["sessions_held"] == 1
    assert found.outcome is Outcome.warn


def test_a_review_on_a_weekend_or_bank_holiday_is_due_the_next_working_day(
    policies: PolicySet,
) -> None:
    """From 5 January 2026 the 3-month boundary is Easter Sunday, 5 April, and the Monday
    is Easter Monday: the review is due on Tuesday 7 April, and the ten working days'
    grace counts from then."""
    points = reviews(policies, snap(date(2026, 4, 21))).details["reviews"]
    assert (points[0]["month_boundary"], points[0]["due"]) == ("2026-04-05", "2026-04-07")
    assert (points[1]["month_boundary"], points[1]["due"]) == ("2026-07-05", "2026-07-06")
    assert points[2]["month_boundary"] == points[2]["due"] == "2026-10-05"
    assert reviews(policies, snap(date(2026, 4, 21))).outcome is Outcome.ok  # 10 days late
    late = reviews(policies, snap(date(2026, 4, 22)))
    assert late.outcome is Outcome.warn
    assert "The 3-month review (due 2026-04-07) is overdue" in late.reason
    assert supervision.review_due_date(snap(date(2026, 4, 1)), 3) == date(2026, 4, 7)
    assert supervision.next_working_day(date(2026, 12, 25), BH) == date(2026, 12, 29)


def test_while_paused_overdue_from_is_the_first_day_back(policies: PolicySet) -> None:
    sessions = held(date(2026, 1, 5), date(2026, 1, 12))
    closed = PauseSpan(start=date(2026, 1, 26), end=date(2026, 5, 31), reason="maternity")
    during = frequency(policies, snap(date(2026, 3, 2), sessions, pauses=[closed]))
    assert during.details["frequency"]["overdue_from"] == "2026-06-01"
    # Not yet overdue when the pause began: due as many programme days after the return.
    fresh = held(date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 23))
    during = frequency(policies, snap(date(2026, 3, 2), fresh, pauses=[closed]))
    # 23, 24 and 25 January count; five more days from 1 June: overdue on 6 June.
    assert during.details["frequency"]["overdue_from"] == "2026-06-06"
