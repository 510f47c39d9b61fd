"""The allocation page's live check says what submitting will answer.

A manager who is told "Allowed" and then refused (or the other way round) cannot trust the
check. Each proposal below is sent twice with the same answers, as the browser sends
them: first to the live check (`POST /allocate/check`, as htmx asks), then as the form
(`POST /allocate`). They must agree: allowed is written, a warning asks for a reason, a
firm limit is refused with the same verdict, and a proposal the write refuses before any
policy (a case that already has a holder, a closed case...) is refused by the check in
the same words, beside the same question, with no record number in them.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.auth import sessions
from app.models import Allocation
from tests.api.test_who_acts import page_visitor
from tests.scenarios import seed

START = date(2030, 9, 1)  # after today: a write's reconciliation stays inside these dates
EARLY = date(2030, 10, 5)  # the first 3 months: a firm cap of 5
VERDICT = re.compile(r'id="whatif-result" data-outcome="([a-z]+)">(.*?)<datalist', re.S)


@dataclass
class Proposal:
    label: str
    case: object
    worker: object
    role: str = "holder"
    start: date = EARLY

    def answers(self) -> dict[str, str]:
        return {"case_reference": self.case.reference,  # type: ignore[attr-defined]
                "worker_id": str(self.worker.id),  # type: ignore[attr-defined]
                "role": self.role, "start_date": self.start.isoformat()}


def text_of(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def beside(page: str) -> dict[str, str]:
    """Every message shown beside a question, by the question's id."""
    return {m[0]: text_of(m[1]).removeprefix("Error: ") for m in re.findall(
        r'id="([a-z-]+)-error" class="govuk-error-message">(.*?)</p>', page, re.S)}


def allocations(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(Allocation)).one())


def test_the_live_check_and_the_write_agree_on_every_kind_of_proposal(
    app_on_test_session: FastAPI, db_session: Session,
) -> None:
    org = seed.organisation(db_session)
    room, _ = seed.nqsw(db_session, org, start=START, name="Rae Room")
    seed.load(db_session, room, 1, start=START, team_id=org.team_id)
    full, _ = seed.nqsw(db_session, org, start=START, name="Finn Full")
    seed.load(db_session, full, 5, start=START, team_id=org.team_id)
    colleague = seed.person(db_session, "social_worker", team_id=org.team_id,
                            name="Cal Colleague", experienced=True)

    def new_case(**facts: object) -> object:
        return seed.case(db_session, opened_on=START, team_id=org.team_id, **facts)  # type: ignore[arg-type]

    held = new_case()
    seed.allocate(db_session, colleague, held, start=START)
    closed = new_case()
    closed.closed_on = EARLY - timedelta(days=3)  # type: ignore[attr-defined]
    mine = new_case()
    seed.allocate(db_session, room, mine, start=START)
    late = seed.case(db_session, opened_on=EARLY + timedelta(days=10), team_id=org.team_id)
    proposals = [
        Proposal("a case already held", held, room),
        Proposal("a closed case", closed, room),
        Proposal("a worker already on the case", mine, room, role="co_worker"),
        Proposal("a start before the case opened", late, room),
        Proposal("a worker at the firm cap", new_case(), full),
        Proposal("co-working a case nobody holds", new_case(), room, role="co_worker"),
        Proposal("co-working a held case", held, full, role="co_worker"),
        Proposal("a free case, room under the cap", new_case(), room),
    ]
    db_session.commit()  # the starting facts survive a refused request

    cookie, csrf = page_visitor(app_on_test_session, db_session, org.team_manager)
    seen: dict[str, str] = {}
    with TestClient(app_on_test_session, follow_redirects=False) as browser:
        browser.headers["Accept"] = "text/html"
        browser.cookies.set(sessions.cookie_name(app_on_test_session.state.settings), cookie)
        for proposal in proposals:
            answers = {"csrf_token": csrf, **proposal.answers()}
            check = browser.post("/allocate/check", data=answers,
                                 headers={"HX-Request": "true"})
            assert check.status_code == 200, (proposal.label, check.text[:300])
            found = VERDICT.search(check.text)
            assert found, (proposal.label, check.text[:500])
            outcome, said = found.group(1), text_of(found.group(2))
            seen[proposal.label] = outcome
            before = allocations(db_session)
            write = browser.post("/allocate", data=answers)
            written = allocations(db_session) - before
            messages = beside(write.text)
            label = f"{proposal.label}: the check said {outcome} ({said!r})"
            if outcome == "ok":
                assert write.status_code == 303 and written == 1, (label, messages)
            elif outcome == "warn":
                assert write.status_code == 422 and written == 0, (label, messages)
                assert "Give a reason" in messages.get("reason", ""), label
            elif outcome == "block":
                assert write.status_code == 409 and written == 0, (label, messages)
                assert "breaks a firm limit" in messages.get("case-reference", ""), label
                assert "Ask a senior manager for an override" in said, label
            else:
                assert outcome == "refused", label
                assert write.status_code in (409, 422) and written == 0, (label, messages)
                assert said in messages.values(), (label, messages)
                assert not re.search(r"\b(allocation|worker|case) \d+\b", said), label

    assert seen == {
        "a case already held": "refused",
        "a closed case": "refused",
        "a worker already on the case": "refused",
        "a start before the case opened": "refused",
        "a worker at the firm cap": "block",
        "co-working a case nobody holds": "ok",
        "co-working a held case": "block",
        "a free case, room under the cap": "ok",
    }
