"""The day an event happened and the day of the request, on the seven routes that record
an event (docs/api.md, "Effective dates").

`on` is the request's date on every route: in the query or, for a client that sends it
there, in the body, and then the same date (422 on `["body", "on"]` otherwise). The day
the event happened, which may be earlier, has its own body field, named as the answer
names it: `resumed_on`, `ended_on`, `revoked_on`, `taken_on`, `cancelled_on`; left out,
it is the request's date. Each route is asked the same questions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.scenarios import seed

from .test_conventions import _properties
from .test_diary import book, diary_url, make_nqsw, managed_team, signed_in_as
from .test_programme_events import sign_off_body, url
from .test_supervision import record

Prepare = Callable[[Callable[..., TestClient], Session, TestClient], tuple[TestClient, str]]


@dataclass(frozen=True)
class Event:
    """A route recording an event: how to reach one ready for it (the caller and the
    URL), the rest of its body, the event's own date field and where the answer shows
    that date, and two different days: the request's and the event's."""

    path: str
    prepare: Prepare
    field: str
    shown: Callable[[dict[str, Any]], str]
    request_on: str
    event_on: str
    body: dict[str, Any] = field(default_factory=dict)


def _paused(client_as: Callable[..., TestClient], db_session: Session,
            client: TestClient) -> tuple[TestClient, str]:
    nqsw = make_nqsw(client, start="2026-01-05")
    paused = client.post(url(nqsw, "/pause"), json={"start_date": "2026-02-02",
                                                    "reason": "health"},
                         params={"on": "2026-02-02"})
    assert paused.status_code == 200, paused.text
    return client, url(nqsw, "/resume")


def _running(rest: str) -> Prepare:
    def prepare(client_as: Callable[..., TestClient], db_session: Session,
                client: TestClient) -> tuple[TestClient, str]:
        return client, url(make_nqsw(client), rest)

    return prepare


def _proposed(client_as: Callable[..., TestClient], db_session: Session,
              client: TestClient) -> tuple[TestClient, str]:
    """A sign-off recorded by the team manager, awaiting the senior manager: it may be
    withdrawn from any day."""
    org = seed.organisation(db_session)
    worker, _ = seed.nqsw(db_session, org, start=date(2026, 1, 15))
    db_session.commit()
    manager = client_as(org.team_manager)
    nqsw = worker.id or 0
    recorded = manager.post(url(nqsw, "/sign-offs"), json=sign_off_body(org))
    assert recorded.status_code == 201, recorded.text
    return manager, url(nqsw, f"/sign-offs/{recorded.json()['sign_off']['id']}/revoke")


def _booked(client_as: Callable[..., TestClient], db_session: Session,
            client: TestClient) -> tuple[TestClient, str]:
    nqsw = make_nqsw(client)
    return client, diary_url(nqsw, f"/{book(client, nqsw, '2026-11-25')['id']}/taken")


def _booked_in_a_team(client_as: Callable[..., TestClient], db_session: Session,
                      client: TestClient) -> tuple[TestClient, str]:
    """Booked time, and its NQSW's team manager (the one who cancels it)."""
    team, manager = managed_team(client)
    nqsw = make_nqsw(client, team_id=team)
    entry = book(client, nqsw, "2026-12-02")
    return (signed_in_as(client_as, db_session, manager),
            diary_url(nqsw, f"/{entry['id']}/cancel"))


def _planned(client_as: Callable[..., TestClient], db_session: Session,
             client: TestClient) -> tuple[TestClient, str]:
    """A supervision session planned with the NQSW's team manager, who cancels it."""
    team, manager = managed_team(client)
    nqsw = make_nqsw(client, start="2026-01-05", team_id=team)
    planned = record(client, nqsw, manager, "2026-01-14", start_time="14:00:00")
    return (signed_in_as(client_as, db_session, manager),
            url(nqsw, f"/supervision/{planned['id']}/cancel"))


def _first_day_back(answer: dict[str, Any]) -> str:
    """The answer shows the pause's last day; the first day back is the day after."""
    return (date.fromisoformat(answer["pauses"][0]["end_date"]) + timedelta(days=1)).isoformat()


EVENTS = {
    "resume": Event("/nqsws/{staff_id}/resume", _paused, "resumed_on", _first_day_back,
                    "2026-03-02", "2026-02-23"),
    "withdraw": Event("/nqsws/{staff_id}/withdraw", _running("/withdraw"), "ended_on",
                      lambda a: a["enrolment"]["ended_on"], "2026-12-10", "2026-11-30",
                      {"reason": "other"}),
    "complete": Event("/nqsws/{staff_id}/complete", _running("/complete"), "ended_on",
                      lambda a: a["enrolment"]["ended_on"], "2026-12-10", "2026-11-30",
                      {"outcome": "passed"}),
    "revoke": Event("/nqsws/{staff_id}/sign-offs/{sign_off_id}/revoke", _proposed,
                    "revoked_on", lambda a: a["sign_off"]["revoked_on"],
                    "2026-07-10", "2026-07-06", {"reason": "Not ready yet"}),
    "taken": Event("/nqsws/{staff_id}/diary/{entry_id}/taken", _booked, "taken_on",
                   lambda a: a["taken_on"], "2026-11-27", "2026-11-26"),
    "diary-cancel": Event("/nqsws/{staff_id}/diary/{entry_id}/cancel", _booked_in_a_team,
                          "cancelled_on", lambda a: a["cancelled_on"],
                          "2026-11-27", "2026-11-26", {"reason": "Court hearing that day"}),
    "supervision-cancel": Event("/nqsws/{staff_id}/supervision/{session_id}/cancel",
                                _planned, "cancelled_on", lambda a: a["cancelled_on"],
                                "2026-01-13", "2026-01-12", {"reason": "Manager in court"}),
}
each_event = pytest.mark.parametrize("event", list(EVENTS.values()), ids=list(EVENTS))


def _answer(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


@each_event
def test_the_event_may_be_dated_before_the_request(
    event: Event, client_as: Callable[..., TestClient], db_session: Session,
    client: TestClient,
) -> None:
    caller, target = event.prepare(client_as, db_session, client)
    done = caller.post(target, params={"on": event.request_on},
                       json={**event.body, event.field: event.event_on})
    assert event.shown(_answer(done)) == event.event_on


@each_event
def test_the_event_is_dated_the_request_s_day_unless_given(
    event: Event, client_as: Callable[..., TestClient], db_session: Session,
    client: TestClient,
) -> None:
    caller, target = event.prepare(client_as, db_session, client)
    done = caller.post(target, params={"on": event.request_on}, json=event.body)
    assert event.shown(_answer(done)) == event.request_on


@each_event
def test_on_in_the_body_may_repeat_the_query(
    event: Event, client_as: Callable[..., TestClient], db_session: Session,
    client: TestClient,
) -> None:
    """A client that sent one date in both places keeps working: it is the request's
    date, and the event's by default."""
    caller, target = event.prepare(client_as, db_session, client)
    done = caller.post(target, params={"on": event.request_on},
                       json={**event.body, "on": event.request_on})
    assert event.shown(_answer(done)) == event.request_on


@each_event
def test_on_in_the_body_differing_from_the_query_is_refused(
    event: Event, client_as: Callable[..., TestClient], db_session: Session,
    client: TestClient,
) -> None:
    """`on` in the body is the request's date, as everywhere: a different date there is
    refused, not read as the event's date; nothing is recorded."""
    caller, target = event.prepare(client_as, db_session, client)
    refused = caller.post(target, params={"on": event.request_on},
                          json={**event.body, "on": event.event_on})
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["detail"]
    assert error["loc"] == ["body", "on"]
    assert event.event_on in error["msg"] and event.request_on in error["msg"]
    assert f"`{event.field}`" in error["msg"]  # where the event's own day goes
    done = caller.post(target, params={"on": event.request_on},
                       json={**event.body, event.field: event.event_on})
    assert event.shown(_answer(done)) == event.event_on


@pytest.mark.only_backend("sqlite")  # the schema is the same on both databases
@each_event
def test_the_schema_names_the_event_s_date(event: Event, app: FastAPI) -> None:
    document = app.openapi()
    operation = document["paths"][f"/api/v1{event.path}"]["post"]
    media = operation["requestBody"]["content"]["application/json"]
    properties = _properties(document, media["schema"])
    assert {event.field, "on"} <= set(properties)
    assert f"`{event.field}`" in properties["on"]["description"]
    query_on = next(p for p in operation["parameters"] if p["name"] == "on")
    assert query_on["in"] == "query"
