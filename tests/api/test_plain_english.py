"""What people read speaks their language, not the code's: every kind of email and in-app
notification, and the pages about an NQSW, show dates in long form ("3 November 2026"),
roles in words ("team manager") and a rule by its title, never its id; and the diary warns
when bookings go beyond the programme's protected time or into the past.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.auth import sessions
from app.models import ProtectedTime, Staff
from app.services import diary as diary_service
from app.services import escalation, notify
from app.settings import PROJECT_ROOT
from app.web.templating import number
from app.wording import evidence_rows
from tests.api.test_who_acts import page_visitor
from tests.scenarios import seed

TODAY = date.today()
START = TODAY - timedelta(days=60)
ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
ROLE_CODES = ("team_manager", "senior_manager", "asye_coordinator", "advanced_practitioner",
              "social_worker", "co_worker")
RULE_ID = "caseload-cap"


def prose(page: str) -> str:
    """The words a person reads: no tags, attributes, scripts or web addresses."""
    page = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", " ", page)
    page = re.sub(r"(?s)<[^>]+>", " ", page)
    return re.sub(r"https?://\S+", " ", html.unescape(page))


def code_in(text: str, *rule_ids: str) -> list[str]:
    """The code's names found in `text`: ISO dates, role codes and rule ids."""
    found = ISO.findall(text) + [c for c in ROLE_CODES if c in text]
    return found + [r for r in rule_ids if re.search(rf"(?<![\w-]){re.escape(r)}(?![\w-])", text)]


# A breach and everything the kinds of message carry, as the services pass them: dates as
# dates and as ISO strings, roles as codes, a rule with no title (its id is put in words).
SAMPLE = {
    "breach": {
        "id": 7, "policy_id": "stage-caps", "rule_id": RULE_ID, "rule_title": None,
        "reason": "7 cases against a cap of 6 since 2026-11-03", "severity": "high",
        "severe": False, "status": "open", "overridden": False, "measured": "7",
        "limit": "6", "opened_on": date(2026, 11, 3), "escalation_due_on": "2026-11-10",
        "escalation_level": 0, "resolution": "caseload back under the cap on 2026-11-20",
        "resolved_on": date(2026, 11, 20),
    },
    "nqsw": {"id": 5, "name": "Sam Lee", "team": "North"},
    "day": date(2026, 11, 3), "hours": 7.4, "purpose": "study",
    "cancelled_by_name": "Tess Manager", "reason": "Duty cover on 2026-11-03",
    "rebooked_on": "2026-11-24", "exception_expired_on": date(2026, 12, 1),
    "reopen_reason": "the exception ended on 2026-12-01", "working_days_open": 5,
    "team_manager_name": "Tess Manager", "escalate_after_days": 5,
    "items": [{"subject": "Your protected time on 2026-11-03 was cancelled",
               "time": "09:30", "link": "http://ringfence.test/notifications"}],
    "day_label": "3 November 2026", "asked_by": "An administrator", "asked_at": "09:00",
    "expires": "5 November 2026 09:00", "hours_valid": 48, "email": "sam@example.org",
    "set_at": "09:00", "login": "http://ringfence.test/login", "reset": False,
    "message": "A team_manager cancelled the booking on 2026-11-03",
    "link": "http://ringfence.test/breaches/7",
}
OWN_KINDS = sorted({p.name.rsplit(".", 1)[0] for p in (PROJECT_ROOT / "templates" / "emails")
                    .glob("*.txt") if not p.name.startswith("_")
                    and not p.name.startswith(("adjustment.", "override_request."))}
                   | {"_generic"})


@pytest.mark.parametrize("kind", OWN_KINDS)
def test_every_email_and_notification_reads_in_words(kind: str) -> None:
    subject = f"Workload breach: Sam Lee ({RULE_ID}) from 2026-11-03"
    made = notify.render_email(kind, subject, SAMPLE)
    assert made.subject == "Workload breach: Sam Lee (Caseload cap) from 3 November 2026"
    for body in (made.text, made.html or ""):
        assert code_in(prose(body), RULE_ID) == [], body
    if kind.startswith("breach."):
        assert "Caseload cap" in made.text
    if kind == "protected_time.cancelled":
        assert "3 November 2026" in made.text and "24 November 2026" in made.text


def test_a_rule_with_a_title_is_named_by_it_and_a_case_role_in_words() -> None:
    made = notify.render_email(
        "breach.opened", f"Workload breach ({RULE_ID})",
        {**SAMPLE, "breach": {**SAMPLE["breach"], "rule_title": "Caseload within the cap"},
         "role_on_case": "co_worker"})
    assert made.subject == "Workload breach (Caseload within the cap)"
    assert "What:     Caseload within the cap" in made.text
    generic = notify.render_email("_generic", "As co_worker", {"message": "co_worker"})
    assert "co-worker" in generic.text and "co_worker" not in generic.text + generic.subject


def test_a_findings_evidence_reads_as_facts_not_code() -> None:
    rows = dict(evidence_rows({"provisional": False, "as_of": "2026-11-03",
                               "entitlement_hours": 167.97, "team_manager_id": 4,
                               "year": {"index": 1}}))
    assert rows == {"Provisional (a pause is still open)": "No", "As of": "3 November 2026",
                    "Protected time for the programme (hours)": "167.97",
                    "Team manager id": "4"}


# ---- pages ---------------------------------------------------------------------------


@pytest.fixture
def browse(app_on_test_session: FastAPI, db_session: Session) -> Iterator[object]:
    """`browse(staff)`: a signed-in page client for this person."""
    made: list[TestClient] = []

    def as_(staff: Staff) -> TestClient:
        cookie, _ = page_visitor(app_on_test_session, db_session, staff)
        client = TestClient(app_on_test_session, follow_redirects=False)
        client.headers["Accept"] = "text/html"
        client.cookies.set(sessions.cookie_name(app_on_test_session.state.settings), cookie)
        made.append(client)
        return client

    yield as_
    for client in made:
        client.close()


def test_the_inbox_names_the_rule_and_the_pages_about_an_nqsw_show_no_code(
    browse, db_session: Session,
) -> None:
    org = seed.organisation(db_session)
    worker, enrolment = seed.nqsw(db_session, org, start=START)
    breach = seed.breach(db_session, worker, enrolment, opened_on=TODAY - timedelta(days=2))
    escalation.tell_nqsw(db_session, breach, None, title=None)
    db_session.commit()
    inbox = browse(worker).get("/notifications")
    assert inbox.status_code == 200
    assert "A promise to you was broken: Caseload cap" in inbox.text
    assert code_in(prose(inbox.text), RULE_ID) == []
    manager = browse(org.team_manager)
    for path in ("", "/diary", "/supervision", "/programme"):
        page = manager.get(f"/nqsws/{worker.id}{path}")
        assert page.status_code == 200, path
        assert code_in(prose(page.text)) == [], path
        if path:
            assert f'href="/nqsws/{worker.id}" class="govuk-back-link"' in page.text, path
    for path in ("/", "/nqsws", "/promise"):
        page = manager.get(path)
        assert page.status_code == 200, path
        assert code_in(prose(page.text)) == [], path
    assert f'href="/nqsws/{worker.id}/adjustments"' in manager.get(
        f"/nqsws/{worker.id}/programme").text
    assert code_in(prose(browse(org.coordinator).get("/enrolments/new").text)) == []


def test_the_diary_warns_of_bookings_beyond_the_entitlement_and_in_the_past(
    browse, db_session: Session,
) -> None:
    org = seed.organisation(db_session)
    worker, enrolment = seed.nqsw(db_session, org, start=START)
    db_session.commit()
    diary = browse(worker)
    first = diary.get(f"/nqsws/{worker.id}/diary")
    assert 'id="beyond-entitlement"' not in first.text
    assert 'id="booked-in-the-past"' not in first.text
    # Enough full days ahead to hold more than the whole programme's protected time.
    ahead = [TODAY + timedelta(days=7 * week + 1) for week in range(60)]
    db_session.add_all(ProtectedTime(enrolment_id=enrolment.id, day=day,  # type: ignore[arg-type]
                                     length="full_day", hours=7.4, purpose="study")
                       for day in ahead)
    db_session.commit()
    figures = diary_service.summary(db_session, staff_id=worker.id or 0, on=TODAY,
                                    policies=diary.app.state.policies)
    over = round(figures["booked"]["hours"] + figures["taken"]["hours"]
                 - figures["entitlement"]["hours"], 2)
    assert over > 0
    page = diary.get(f"/nqsws/{worker.id}/diary")
    warning = prose(page.text.split('id="beyond-entitlement"', 1)[1].split("</div>", 1)[0])
    # The figures as the page's protected-time table shows them.
    assert f"{number(over)} hours more than the {number(figures['entitlement']['hours'])} " \
        "hours of protected time" in " ".join(warning.split())
    past = TODAY - timedelta(days=3)
    told = diary.get(f"/nqsws/{worker.id}/diary?done=booked&day={past.isoformat()}")
    assert 'id="booked-in-the-past"' in told.text
    assert f"{past.day} {past:%B %Y} is in the past" in prose(told.text)
