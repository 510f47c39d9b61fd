"""The page jobs behind the API's programme routes: enrolling a member of staff,
withdrawing and completing a programme, an NQSW's own breaches (and the notice that tells
them of one), and the NQSW's calendar link on the diary page.

Each form is posted as a browser posts it: a real page session, its CSRF token, and the
answers as form fields; a refusal comes back as the page with the message beside the
field, a wrong role as the 403 page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.auth import sessions
from app.models import Breach, CalendarToken, Enrolment, Notification, ProtectedTime, Staff
from tests.api.test_who_acts import page_visitor
from tests.scenarios import seed

TODAY = date.today()
START = TODAY - timedelta(days=60)


class Visitor:
    """One person's browser: signed in with a real page session, not following redirects."""

    def __init__(self, app: FastAPI, session: Session, staff: Staff) -> None:
        cookie, self.csrf = page_visitor(app, session, staff)
        self.client = TestClient(app, follow_redirects=False)
        self.client.headers["Accept"] = "text/html"
        self.client.cookies.set(sessions.cookie_name(app.state.settings), cookie)

    def get(self, url: str) -> object:
        return self.client.get(url)

    def post(self, url: str, **answers: str) -> object:
        return self.client.post(url, data={"csrf_token": self.csrf, **answers})


@pytest.fixture
def visit(app_on_test_session: FastAPI, db_session: Session) -> Iterator[object]:
    made: list[Visitor] = []

    def as_(staff: Staff) -> Visitor:
        made.append(Visitor(app_on_test_session, db_session, staff))
        return made[-1]

    yield as_
    for visitor in made:
        visitor.client.close()


def boxes(name: str, day: date) -> dict[str, str]:
    """A date as a person types it into the GOV.UK date input's Day, Month and Year."""
    return {f"{name}-day": str(day.day), f"{name}-month": str(day.month),
            f"{name}-year": str(day.year)}


def beside(html: str, field_id: str) -> str:
    """The message shown beside a field (its GOV.UK error message), or ''."""
    found = re.search(rf'id="{field_id}-error" class="govuk-error-message">'
                      r'<span class="govuk-visually-hidden">Error:</span> ([^<]+)</p>', html)
    return found.group(1).strip() if found else ""


def summary(html: str) -> str:
    assert 'class="govuk-error-summary"' in html
    return html.split('class="govuk-error-summary"', 1)[1].split("</ul>", 1)[0]


# ---- enrolling ------------------------------------------------------------------------


def test_the_coordinator_enrols_a_social_worker_and_the_programme_page_says_so(
    visit, db_session: Session,
) -> None:
    org = seed.organisation(db_session)
    worker = seed.person(db_session, "social_worker", team_id=org.team_id, name="Kit Young",
                         start=date(2024, 1, 8))
    db_session.commit()
    coordinator = visit(org.coordinator)
    form = coordinator.get("/enrolments/new")
    assert form.status_code == 200
    assert f'<option value="{worker.id}">Kit Young</option>' in form.text
    done = coordinator.post("/enrolments/new", staff_id=str(worker.id), programme="asye",
                            **boxes("start_date", START), advanced_practitioner_id=str(org.ap.id))
    assert done.status_code == 303, done.text[:500]
    location = done.headers["location"]
    assert location.startswith(f"/nqsws/{worker.id}/programme?done=enrolled")
    page = coordinator.get(location)
    assert page.status_code == 200
    assert "Kit Young is enrolled on the ASYE from" in page.text
    enrolment = db_session.exec(select(Enrolment).where(Enrolment.staff_id == worker.id)).one()
    assert enrolment.start_date == START and enrolment.advanced_practitioner_id == org.ap.id
    db_session.refresh(worker)
    assert worker.role == "nqsw"


def test_enrolling_is_refused_beside_the_field_and_nothing_is_kept(
    visit, db_session: Session,
) -> None:
    org = seed.organisation(db_session)
    worker = seed.person(db_session, "social_worker", team_id=org.team_id,
                         start=date(2024, 1, 8))
    enrolled, _ = seed.nqsw(db_session, org, start=START)
    db_session.commit()
    coordinator = visit(org.coordinator)
    nobody = coordinator.post("/enrolments/new", programme="asye",
                              **boxes("start_date", START))
    assert nobody.status_code == 422
    assert beside(nobody.text, "staff-id") == "Select the member of staff"
    assert 'href="#staff-id"' in summary(nobody.text)
    early = coordinator.post("/enrolments/new", staff_id=str(worker.id), programme="asye",
                             **boxes("start_date", date(2023, 6, 1)))
    assert early.status_code == 422
    assert "before staff member" in beside(early.text, "start-date")
    # what was typed is kept, box by box
    assert all(f'name="start_date-{part}" type="text" inputmode="numeric" spellcheck="false" '
               f'value="{typed}"' in early.text
               for part, typed in (("day", "1"), ("month", "6"), ("year", "2023")))
    twice = coordinator.post("/enrolments/new", staff_id=str(enrolled.id), programme="asye",
                             **boxes("start_date", TODAY))
    assert twice.status_code == 409
    assert beside(twice.text, "staff-id") or "already" in summary(twice.text)
    assert db_session.exec(select(Enrolment).where(Enrolment.staff_id == worker.id)).first() \
        is None


def test_only_whoever_may_enrol_through_the_api_sees_the_enrolment_form(
    visit, db_session: Session,
) -> None:
    org = seed.organisation(db_session)
    worker = seed.person(db_session, "social_worker", team_id=org.team_id)
    db_session.commit()
    manager = visit(org.team_manager)
    assert manager.get("/enrolments/new").status_code == 403
    refused = manager.post("/enrolments/new", staff_id=str(worker.id), programme="asye",
                           **boxes("start_date", TODAY))
    assert refused.status_code == 403
    assert db_session.exec(select(Enrolment).where(Enrolment.staff_id == worker.id)).first() \
        is None


# ---- withdrawing and completing -------------------------------------------------------


def test_withdrawing_with_a_reason_ends_the_programme_and_cancels_later_time(
    visit, db_session: Session,
) -> None:
    org = seed.organisation(db_session)
    worker, enrolment = seed.nqsw(db_session, org, start=START)
    later = ProtectedTime(enrolment_id=enrolment.id, day=TODAY + timedelta(days=10),  # type: ignore[arg-type]
                          length="full_day", hours=7.4, purpose="study")
    db_session.add(later)
    db_session.commit()
    coordinator = visit(org.coordinator)
    page = coordinator.get(f"/nqsws/{worker.id}/programme")
    assert f'action="/nqsws/{worker.id}/programme/withdraw"' in page.text
    assert f'action="/nqsws/{worker.id}/programme/complete"' in page.text
    missing = coordinator.post(f"/nqsws/{worker.id}/programme/withdraw",
                               **boxes("withdraw_on", TODAY))
    assert missing.status_code == 422
    assert beside(missing.text, "withdraw-reason") == "Select why they leave the programme"
    done = coordinator.post(f"/nqsws/{worker.id}/programme/withdraw",
                            withdraw_reason="left_employer", **boxes("withdraw_on", TODAY),
                            withdraw_note="Moved away")
    assert done.status_code == 303
    assert "done=withdrawn" in done.headers["location"]
    assert parse_qs(urlsplit(done.headers["location"]).query)["count"] == ["1"]
    after = coordinator.get(done.headers["location"])
    assert "has left the programme" in after.text
    assert "1 protected-time booking was after that day" in after.text
    assert 'id="programme-ended"' in after.text
    # An ended programme offers none of the forms.
    assert "/programme/withdraw" not in after.text and "/programme/complete" not in after.text
    db_session.refresh(enrolment)
    db_session.refresh(later)
    assert enrolment.status == "withdrawn" and enrolment.ended_on == TODAY
    assert later.status == "cancelled"


def test_completing_with_an_outcome_and_a_refused_date_beside_its_field(
    visit, db_session: Session,
) -> None:
    org = seed.organisation(db_session)
    worker, enrolment = seed.nqsw(db_session, org, start=START)
    db_session.commit()
    manager = visit(org.team_manager)
    early = manager.post(f"/nqsws/{worker.id}/programme/complete", outcome="passed",
                         **boxes("complete_on", START - timedelta(days=1)))
    assert early.status_code == 422
    assert beside(early.text, "complete-on").startswith("The programme started on")
    no_outcome = manager.post(f"/nqsws/{worker.id}/programme/complete",
                              **boxes("complete_on", TODAY))
    assert no_outcome.status_code == 422
    assert beside(no_outcome.text, "outcome") == "Select the outcome"
    db_session.refresh(enrolment)
    assert enrolment.status == "active"
    done = manager.post(f"/nqsws/{worker.id}/programme/complete", outcome="passed",
                        **boxes("complete_on", TODAY))
    assert done.status_code == 303
    after = manager.get(done.headers["location"])
    assert "Programme completed on" in after.text and ": passed." in after.text
    db_session.refresh(enrolment)
    assert enrolment.status == "completed" and enrolment.outcome == "passed"


def test_a_senior_manager_neither_sees_nor_may_send_withdrawal_or_completion(
    visit, db_session: Session,
) -> None:
    org = seed.organisation(db_session)
    worker, enrolment = seed.nqsw(db_session, org, start=START)
    db_session.commit()
    senior = visit(org.senior_manager)
    page = senior.get(f"/nqsws/{worker.id}/programme")
    assert page.status_code == 200
    assert "/programme/withdraw" not in page.text and "/programme/complete" not in page.text
    assert senior.post(f"/nqsws/{worker.id}/programme/withdraw", withdraw_reason="other",
                       **boxes("withdraw_on", TODAY)).status_code == 403
    assert senior.post(f"/nqsws/{worker.id}/programme/complete", outcome="passed",
                       **boxes("complete_on", TODAY)).status_code == 403
    db_session.refresh(enrolment)
    assert enrolment.status == "active"


# ---- an NQSW's own breaches -----------------------------------------------------------


def test_an_nqsw_sees_the_breaches_about_them_and_nobody_elses(
    visit, db_session: Session,
) -> None:
    org = seed.organisation(db_session)
    worker, enrolment = seed.nqsw(db_session, org, start=START)
    other, other_enrolment = seed.nqsw(db_session, org, start=START)
    mine = seed.breach(db_session, worker, enrolment, opened_on=TODAY - timedelta(days=3))
    seed.breach(db_session, worker, enrolment, opened_on=START, rule_id="supervision-gap",
                resolved_on=START + timedelta(days=5))
    seed.breach(db_session, other, other_enrolment, opened_on=TODAY)
    db_session.commit()
    nqsw = visit(worker)
    page = nqsw.get(f"/nqsws/{worker.id}/breaches")
    assert page.status_code == 200
    assert "Promises broken for you" in page.text
    assert f'href="/breaches/{mine.id}"' in page.text
    assert 'id="open-breaches"' in page.text and 'id="resolved-breaches"' in page.text
    assert "<form" not in page.text.split("<main", 1)[1]  # read-only
    assert nqsw.get(f"/nqsws/{other.id}/breaches").status_code == 404
    assert visit(org.team_manager).get(f"/nqsws/{worker.id}/breaches").status_code == 403
    # The breach's own page leads the NQSW back to their list, and offers no decisions.
    one = nqsw.get(f"/breaches/{mine.id}")
    assert one.status_code == 200
    assert f'href="/nqsws/{worker.id}/breaches"' in one.text
    assert "/acknowledge" not in one.text and "/exception" not in one.text


def test_the_nqsw_is_told_when_a_breach_about_them_opens(
    client: TestClient, db_session: Session,
) -> None:
    start = date(2037, 11, 2)  # as tests/api/test_escalation.py: a firm first-stage cap of 5
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=start)
    seed.load(db_session, worker, 6, start=start)
    db_session.commit()
    assert client.post("/api/v1/breaches/sweep", json={"as_of": "2037-12-24"}).status_code == 200
    breach = db_session.exec(select(Breach).where(Breach.staff_id == worker.id,
                                                  Breach.rule_id == "caseload-cap")).one()
    notices = db_session.exec(select(Notification).where(
        Notification.breach_id == breach.id).order_by(col(Notification.id))).all()
    by_kind = {(n.kind, n.recipient_id) for n in notices}
    assert ("breach.opened", org.team_manager.id) in by_kind
    assert ("breach.opened_for_nqsw", worker.id) in by_kind
    assert ("breach.opened", worker.id) not in by_kind  # the managers' wording is theirs
    theirs = next(n for n in notices if n.recipient_id == worker.id)
    assert theirs.subject.startswith("A promise to you was broken")
    assert "Your team manager has been told" in theirs.body_text
    assert "you do not need to do anything" in theirs.body_text
    assert f"/nqsws/{worker.id}/breaches" in theirs.body_text
    assert theirs.body_html and "Follow it, and any others about you" in theirs.body_html


# ---- the calendar link ----------------------------------------------------------------


def test_the_nqsw_gets_a_calendar_link_then_replaces_it_after_a_warning(
    visit, db_session: Session, app_on_test_session: FastAPI,
) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    db_session.commit()
    nqsw = visit(worker)
    diary = nqsw.get(f"/nqsws/{worker.id}/diary")
    assert "Subscribe in your calendar" in diary.text
    assert "You do not have a calendar link yet." in diary.text
    made = nqsw.post(f"/nqsws/{worker.id}/diary/calendar")
    assert made.status_code == 303
    token = parse_qs(urlsplit(made.headers["location"]).query)["feed"][0]
    shown = nqsw.get(made.headers["location"])
    assert f"/calendar/{token}.ics" in shown.text
    assert 'href="webcal://' in shown.text
    assert "shown only this once" in shown.text
    feed = nqsw.client.get(f"/calendar/{token}.ics")
    assert feed.status_code == 200 and "BEGIN:VCALENDAR" in feed.text
    # Later visits say a link exists but cannot show it again.
    again = nqsw.get(f"/nqsws/{worker.id}/diary")
    assert token not in again.text and "You have a calendar link, made on" in again.text
    confirm = nqsw.get(f"/nqsws/{worker.id}/diary/calendar")
    assert confirm.status_code == 200
    assert "The old link stops working straight away" in confirm.text
    replaced = nqsw.post(f"/nqsws/{worker.id}/diary/calendar")
    new_token = parse_qs(urlsplit(replaced.headers["location"]).query)["feed"][0]
    assert new_token != token
    assert nqsw.client.get(f"/calendar/{token}.ics").status_code == 404
    # The old token in the address no longer shows a link.
    stale = nqsw.get(f"/nqsws/{worker.id}/diary?done=feed&day={TODAY}&feed={token}")
    assert f"/calendar/{token}.ics" not in stale.text
    live = db_session.exec(select(CalendarToken).where(
        CalendarToken.staff_id == worker.id, col(CalendarToken.revoked_at).is_(None))).all()
    assert len(live) == 1


def test_only_the_nqsw_has_a_calendar_link(visit, db_session: Session) -> None:
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=START)
    db_session.commit()
    manager = visit(org.team_manager)
    assert "Subscribe in your calendar" not in manager.get(f"/nqsws/{worker.id}/diary").text
    assert manager.get(f"/nqsws/{worker.id}/diary/calendar").status_code == 403
    assert manager.post(f"/nqsws/{worker.id}/diary/calendar").status_code == 403
    assert db_session.exec(select(CalendarToken).where(
        CalendarToken.staff_id == worker.id)).first() is None


def test_enrolling_from_a_later_start_lands_on_a_programme_page_that_says_so(
    visit, db_session: Session,
) -> None:
    org = seed.organisation(db_session)
    worker = seed.person(db_session, "social_worker", team_id=org.team_id, name="Lou Fry")
    db_session.commit()
    coordinator = visit(org.coordinator)
    later = TODAY + timedelta(days=40)
    done = coordinator.post("/enrolments/new", staff_id=str(worker.id), programme="swip",
                            **boxes("start_date", later))
    assert done.status_code == 303
    page = coordinator.get(done.headers["location"])
    assert page.status_code == 200, page.text[:500]
    assert "Lou Fry is enrolled on the SWIP from" in page.text
