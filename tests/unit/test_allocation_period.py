"""Which days a proposed allocation is judged on, and when a snapshot has to be read.

Pure: `snapshots_over` is given a loader that counts its calls, so these tests say
exactly how many snapshots a check reads for each shape of period.
"""

from __future__ import annotations

from datetime import date

from app.policy.snapshot import PauseSpan, Snapshot
from app.services.allocation_period import (
    OPEN_END_MARGIN,
    PeriodFacts,
    ProposedCase,
    Span,
    horizon,
    period_stop,
    snapshots_over,
    stage_boundaries,
)

START = date(2030, 9, 2)
CASE = ProposedCase(1, "C-1", "child_in_need", 2, START, None)


def snapshot(on: date, pauses: tuple[PauseSpan, ...] = ()) -> Snapshot:
    return Snapshot(staff_id=1, enrolment_id=1, programme="asye", programme_start=START,
                    as_of=on, pauses=pauses)


class Loader:
    def __init__(self, pauses: tuple[PauseSpan, ...] = ()) -> None:
        self.days: list[date] = []
        self.pauses = pauses

    def __call__(self, on: date) -> Snapshot:
        self.days.append(on)
        return snapshot(on, self.pauses)


def test_the_stage_boundaries_are_programme_months_net_of_pauses() -> None:
    plain = stage_boundaries(snapshot(START))
    assert plain[:3] == [date(2030, 10, 2), date(2030, 11, 2), date(2030, 12, 2)]
    assert len(plain) == 12 and plain[-1] == date(2031, 9, 2)
    paused = stage_boundaries(snapshot(START, (PauseSpan(date(2030, 10, 10),
                                                          date(2030, 10, 19)),)))
    assert paused[0] == date(2030, 10, 2)  # before the pause: unmoved
    assert paused[1] == date(2030, 11, 12)  # ten paused days later
    open_pause = stage_boundaries(snapshot(START, (PauseSpan(date(2030, 10, 10), None),)))
    assert open_pause == [date(2030, 10, 2)]  # the clock stops: nothing after is known


def test_an_open_ended_period_with_nothing_dated_reads_one_snapshot() -> None:
    load = Loader()
    first = load(START)
    dated = snapshots_over(load, start=START, stop=None, facts=PeriodFacts(case=CASE),
                           first=first)
    assert load.days == [START]  # the boundaries reuse it, moved on
    assert [d.on for d in dated] == [START, *stage_boundaries(first)]
    assert all(d.exact for d in dated)


def test_a_period_stops_at_its_end_and_at_the_case_closing() -> None:
    load = Loader()
    first = load(START)
    dated = snapshots_over(load, start=START, stop=date(2030, 11, 2),
                           facts=PeriodFacts(case=CASE), first=first)
    assert [d.on for d in dated] == [START, date(2030, 10, 2)]
    assert period_stop(date(2030, 12, 1), date(2030, 11, 1)) == date(2030, 11, 1)
    assert period_stop(None, None) is None
    assert horizon(START, None, first) == date(2031, 9, 2) + OPEN_END_MARGIN


def test_something_joining_the_load_is_judged_on_a_snapshot_read_that_day() -> None:
    load = Loader()
    first = load(START)
    later = date(2030, 9, 20)
    facts = PeriodFacts(case=CASE, grows=frozenset({later}))
    dated = snapshots_over(load, start=START, stop=date(2030, 10, 20), facts=facts,
                           first=first)
    assert load.days == [START, later]
    assert [(d.on, d.exact) for d in dated] == [
        (START, True), (later, True), (date(2030, 10, 2), True)]


def test_something_leaving_the_load_makes_later_days_inexact_not_read() -> None:
    load = Loader()
    first = load(START)
    facts = PeriodFacts(case=CASE, shrinks=frozenset({date(2030, 9, 20)}))
    dated = snapshots_over(load, start=START, stop=date(2030, 11, 20), facts=facts,
                           first=first)
    assert load.days == [START]
    assert [(d.on, d.exact) for d in dated] == [
        (START, True), (date(2030, 10, 2), False), (date(2030, 11, 2), False)]


def test_not_on_a_programme_until_an_enrolment_starts_in_the_period() -> None:
    load = Loader()
    enrols = date(2030, 9, 16)
    facts = PeriodFacts(case=CASE, grows=frozenset({date(2030, 9, 9), enrols}),
                        enrolment_starts=frozenset({enrols}))
    dated = snapshots_over(load, start=date(2030, 9, 1), stop=None, facts=facts, first=None)
    assert load.days == [enrols]  # the day another allocation starts needs no snapshot
    assert dated[0].on == enrols


def test_the_proposed_case_has_the_terms_and_holder_of_each_day() -> None:
    facts = PeriodFacts(
        case=CASE,
        holders=(Span(START, date(2030, 10, 1), role="advanced_practitioner"),
                 Span(date(2030, 10, 1), None, role="social_worker")),
        case_terms=(Span(START, date(2030, 10, 15), category="early_help", complexity=1),),
    )
    assert facts.holder_is_advanced_practitioner(date(2030, 9, 30))
    assert not facts.holder_is_advanced_practitioner(date(2030, 10, 1))
    assert facts.case_on(date(2030, 10, 14)) == ("early_help", 1)
    assert facts.case_on(date(2030, 10, 15)) == ("child_in_need", 2)
