"""Which enrolment is an NQSW's when none is in force: one answer, `latest_enrolment`.

Two readers used to answer differently. Programme events took the open (active or
paused) enrolment, else the one recorded last (highest id); the NQSW page took the one
with the latest start date, open or not. The right answer is the open one, else the one
that started last:

* open first, because the open enrolment is the programme the NQSW is on: a paused
  NQSW is still on it, and it is the only one a pause, resumption, withdrawal or
  sign-off can change, whatever the dates of an earlier, abandoned one;
* then by start date, not by recording order, because an earlier programme entered
  afterwards for the record is not the NQSW's latest.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from app.models import Enrolment, Pause, Staff
from app.repositories.enrolment import current_enrolment, latest_enrolment
from app.services.enrolments import get_nqsw
from tests.scenarios import seed


def _enrolment(session: Session, worker: Staff, *, start: date, status: str,
               ended_on: date | None = None) -> Enrolment:
    row = Enrolment(staff_id=worker.id, programme="asye", start_date=start,  # type: ignore[arg-type]
                    status=status, ended_on=ended_on)
    session.add(row)
    session.flush()
    return row


def test_a_paused_enrolment_is_the_nqsws_even_when_an_abandoned_one_starts_later(
    db_session: Session,
) -> None:
    """The March start was withdrawn the day it was due, and the programme recorded again
    from January; she is now on maternity leave. Ordering by start date alone showed the
    withdrawn March enrolment; the paused January one is the programme she is on."""
    org = seed.organisation(db_session)
    worker = seed.person(db_session, "nqsw", team_id=org.team_id, start=date(2025, 11, 3))
    abandoned = _enrolment(db_session, worker, start=date(2026, 3, 2), status="withdrawn",
                           ended_on=date(2026, 3, 2))
    running = _enrolment(db_session, worker, start=date(2026, 1, 5), status="paused")
    db_session.add(Pause(enrolment_id=running.id, start_date=date(2026, 2, 2),  # type: ignore[arg-type]
                         reason="maternity"))
    db_session.flush()

    assert abandoned.start_date > running.start_date  # what the start-date rule picked
    assert latest_enrolment(db_session, worker.id) == running  # type: ignore[arg-type]
    assert get_nqsw(session=db_session, staff_id=worker.id)[1] == running  # type: ignore[arg-type]
    # Before the January start nothing is in force, and the page falls back to this one.
    assert current_enrolment(db_session, worker.id, date(2025, 12, 1)) is None  # type: ignore[arg-type]


def test_with_none_open_the_one_that_started_last_not_the_one_recorded_last(
    db_session: Session,
) -> None:
    """He withdrew from the programme started in September 2025; his earlier attempt,
    from September 2024, was entered afterwards for the record. Taking the highest id
    showed the 2024 attempt as his latest; the 2025 one is."""
    org = seed.organisation(db_session)
    worker = seed.person(db_session, "nqsw", team_id=org.team_id, start=date(2024, 6, 3))
    latest = _enrolment(db_session, worker, start=date(2025, 9, 1), status="withdrawn",
                        ended_on=date(2026, 1, 30))
    entered_later = _enrolment(db_session, worker, start=date(2024, 9, 2), status="withdrawn",
                               ended_on=date(2025, 3, 31))

    assert (entered_later.id or 0) > (latest.id or 0)  # what the highest-id rule picked
    assert latest_enrolment(db_session, worker.id) == latest  # type: ignore[arg-type]
    assert get_nqsw(session=db_session, staff_id=worker.id)[1] == latest  # type: ignore[arg-type]


def test_re_enrolled_after_a_withdrawal_the_new_programme_is_the_nqsws(
    db_session: Session,
) -> None:
    """Where both old rules agreed, the answer is unchanged: the new, open enrolment."""
    org = seed.organisation(db_session)
    worker, first = seed.nqsw(db_session, org, start=date(2025, 9, 1))
    first.status, first.ended_on = "withdrawn", date(2025, 12, 19)
    again = _enrolment(db_session, worker, start=date(2026, 4, 6), status="active")

    assert latest_enrolment(db_session, worker.id) == again  # type: ignore[arg-type]
    assert current_enrolment(db_session, worker.id, date(2026, 1, 5)) is None  # type: ignore[arg-type]
    assert current_enrolment(db_session, worker.id, date(2026, 4, 6)) == again  # type: ignore[arg-type]
