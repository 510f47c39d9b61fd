"""Every page x every role x own/other scope, against one table of expected outcomes.

The pages come from the application's own route table, so a page added without a row in
PAGE_EXPECT (and a rule in app/auth/page_access.py) fails here, and so does any route
served outside both the API and the pages that is not declared in `OUTSIDE`. People are
signed in with real page sessions (the cookie `/login` sets, and its CSRF token); one
test signs in through the form itself.

Each row lists, for the roles in ROLES order, the outcome on the caller's own family of
records (team 1: their NQSW, breach, diary entry, supervision session...) and on
another team's (team 2), as `own/other`, or one outcome when both are the same:

- `200`: the page is shown; `redirect`: sent on somewhere other than the sign-in page;
- `ok`: a form let through to its handler (whatever it then says: a redirect, a 422 for
  the empty form sent here);
- `403`: refused for the role (or a record named in the query or form out of reach);
- `404`: refused as if the record did not exist.

Every page is also tried signed out: `login` (a trip to `/login?next=...`), except the
public ones, whose signed-out outcome is in PUBLIC.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.auth import accounts, sessions
from app.auth.csrf import PRE_COOKIE, token_for
from app.auth.page_access import OUTSIDE, PAGE_ACCESS
from app.auth.page_guard import (
    PageTableError,
    application_routes,
    authorize_page,
    build_page_index,
    check_page_table,
)
from app.auth.testing import make_staff, token_for_staff
from app.db import get_session
from app.main import create_app
from app.models import LoginSession, ProtectedTime, Staff, SupervisionSession
from app.repositories import account as repo
from app.settings import Settings

# The API matrix's organisation and roles, so that both matrices try the same people.
from tests.api.test_access_matrix import ROLES, Family, World, build_world

# Shorthands (same role order as ROLES: nqsw, advanced practitioner, social worker, team
# manager, senior manager, ASYE coordinator, admin).
SHOWN = "200 200 200 200 200 200 200"
ACCEPTED = "ok ok ok ok ok ok ok"
OWN_ONLY = "ok/404 ok/404 ok/404 ok/404 ok/404 ok/404 ok/404"
READ = "200/404 200/404 404 200/404 200/404 200 403"  # an NQSW's records
MANAGE = "403 403 403 ok/404 ok/404 403 403"
PROGRAMME_EVENT = "403 403 403 ok/404 403 ok 403"
DIARY_CHANGE = "ok/404 403 403 ok/404 403 403 403"  # the NQSW themselves, their manager
ALLOCATING = "403 403 403 ok/403 ok/403 403 403"
DASHBOARD = "403 403 403 200/403 200/403 200 403"

# Deciding a proposed adjustment: the approver the policy names, within reach.
DECIDE_ADJUSTMENT = "403 403 403 ok/404 ok/404 ok 403"
PAGE_EXPECT: dict[str, str] = {
    "GET /enrolments/new": "403 403 403 403 403 200 403",
    "POST /enrolments/new": "403 403 403 403 403 ok 403",
    "GET /nqsws/{staff_id}/breaches": "200/404 403 403 403 403 403 403",
    "GET /nqsws/{staff_id}/diary/calendar": "200/404 403 403 403 403 403 403",
    "POST /nqsws/{staff_id}/diary/calendar": "ok/404 403 403 403 403 403 403",
    "POST /nqsws/{staff_id}/programme/withdraw": PROGRAMME_EVENT,
    "POST /nqsws/{staff_id}/programme/complete": PROGRAMME_EVENT,
    "GET /login": "redirect redirect redirect redirect redirect redirect redirect",
    "POST /login": ACCEPTED,
    "POST /logout": ACCEPTED,
    # Without the pending ticket of a correct password the code form sends you to sign in.
    "GET /login/code": "redirect redirect redirect redirect redirect redirect redirect",
    "POST /login/code": "login login login login login login login",
    "GET /second-factor": SHOWN,
    "POST /second-factor": ACCEPTED,
    "GET /": "redirect 200 200 200 200 200 200",
    "GET /promise": SHOWN,
    "GET /notifications": SHOWN,
    "POST /notifications/read-all": ACCEPTED,
    "POST /notifications/{notification_id}/read": OWN_ONLY,
    "GET /nqsws": "redirect 200 200 200 200 200 403",
    "GET /nqsws/{staff_id}": READ,
    "GET /allocate": ALLOCATING.replace("ok", "200"),
    "POST /allocate/check": ALLOCATING,
    "POST /allocate": ALLOCATING,
    "POST /allocate/override": ALLOCATING,
    # Override requests: the request id names no request (the roles' answers only).
    "GET /override-requests/new": ALLOCATING.replace("ok", "200"),
    "POST /override-requests": ALLOCATING,
    "GET /override-requests": "403 403 403 200 200 200 403",
    "GET /override-requests/{request_id}": "403 403 403 404 404 404 403",
    "POST /override-requests/{request_id}/approve": "403 403 403 404 404 404 403",
    "POST /override-requests/{request_id}/refuse": "403 403 403 404 404 404 403",
    "POST /override-requests/{request_id}/withdraw": "403 403 403 404 404 403 403",
    "GET /cases/{case_id}/candidates": "403 403 403 200/404 200/404 200 403",
    "GET /cases": "403 403 403 200 200 200 403",
    "GET /cases/new": "403 403 403 200 200 403 403",
    "POST /cases/new": "403 403 403 ok ok 403 403",
    "GET /cases/{case_id}": DASHBOARD.replace("200/403", "200/404"),
    **{f"{method} /cases/{{case_id}}{page}": MANAGE.replace("ok", "200" if method == "GET"
                                                            else "ok")
       for method, page in (("GET", "/close"), ("POST", "/close"), ("GET", "/change"),
                            ("POST", "/change"), ("GET", "/allocations/{allocation_id}/end"),
                            ("POST", "/allocations/{allocation_id}/end"),
                            ("GET", "/allocations/{allocation_id}/reassign"),
                            ("POST", "/allocations/{allocation_id}/reassign/check"),
                            ("POST", "/allocations/{allocation_id}/reassign"))},
    "GET /breaches": DASHBOARD,
    "GET /breaches/export.csv": DASHBOARD,
    "GET /exports": "403 403 403 200 200 200 403",
    **{f"GET /exports/{report}.{fmt}": DASHBOARD if report == "breaches"
       else "403 403 403 200 200 200 403"
       for report in ("breaches", "workload", "compliance") for fmt in ("csv", "xlsx")},
    "GET /imports": "403 403 403 200 403 200 403",
    "POST /imports": "403 403 403 ok 403 ok 403",
    "GET /imports/{run_id}": "403 403 403 404 403 404 403",  # no such run: roles only
    "POST /imports/{run_id}/apply": "403 403 403 404 403 404 403",
    "GET /breaches/{breach_id}": READ,
    "POST /breaches/{breach_id}/acknowledge": MANAGE,
    "POST /breaches/{breach_id}/exception": "403 403 403 403 ok/404 ok 403",
    "GET /nqsws/{staff_id}/diary": READ,
    "POST /nqsws/{staff_id}/diary": DIARY_CHANGE,
    "GET /nqsws/{staff_id}/diary/{entry_id}/move": DIARY_CHANGE.replace("ok", "200"),
    "POST /nqsws/{staff_id}/diary/{entry_id}/move": DIARY_CHANGE,
    "GET /nqsws/{staff_id}/diary/{entry_id}/rebook": DIARY_CHANGE.replace("ok", "200"),
    "POST /nqsws/{staff_id}/diary/{entry_id}/rebook": DIARY_CHANGE,
    "POST /nqsws/{staff_id}/diary/{entry_id}/taken": DIARY_CHANGE,
    "GET /nqsws/{staff_id}/diary/{entry_id}/cancel": "403 403 403 200/404 403 403 403",
    "POST /nqsws/{staff_id}/diary/{entry_id}/cancel": "403 403 403 ok/404 403 403 403",
    "GET /nqsws/{staff_id}/supervision": READ,
    "POST /nqsws/{staff_id}/supervision": "403 ok/404 403 ok/404 403 403 403",
    "POST /nqsws/{staff_id}/reviews": PROGRAMME_EVENT,
    "GET /nqsws/{staff_id}/supervision/{session_id}/cancel": "403 200/404 403 200/404 403 403 403",
    "POST /nqsws/{staff_id}/supervision/{session_id}/cancel": "403 ok/404 403 ok/404 403 403 403",
    "GET /nqsws/{staff_id}/adjustments": READ,
    "GET /nqsws/{staff_id}/adjustments/propose": MANAGE.replace("ok", "200"),
    "POST /nqsws/{staff_id}/adjustments/propose": MANAGE,
    "GET /nqsws/{staff_id}/adjustments/new": "403 403 403 403 200/404 200 403",
    "POST /nqsws/{staff_id}/adjustments/new": "403 403 403 403 ok/404 ok 403",
    "GET /nqsws/{staff_id}/adjustments/{adjustment_id}": READ,
    "POST /nqsws/{staff_id}/adjustments/{adjustment_id}/approve": DECIDE_ADJUSTMENT,
    "POST /nqsws/{staff_id}/adjustments/{adjustment_id}/refuse": DECIDE_ADJUSTMENT,
    "POST /nqsws/{staff_id}/adjustments/{adjustment_id}/withdraw": MANAGE,
    "POST /nqsws/{staff_id}/adjustments/{adjustment_id}/end": "403 403 403 403 ok/404 ok 403",
    "GET /nqsws/{staff_id}/programme": READ,
    "POST /nqsws/{staff_id}/programme/pause": PROGRAMME_EVENT,
    "POST /nqsws/{staff_id}/programme/resume": PROGRAMME_EVENT,
    "POST /nqsws/{staff_id}/programme/sign-off": MANAGE,
    "POST /nqsws/{staff_id}/programme/sign-off/{sign_off_id}/approve": MANAGE,
    "POST /nqsws/{staff_id}/programme/sign-off/{sign_off_id}/revoke": MANAGE,
    # A set-password link is its own credential: an unknown one is 404 for everyone.
    "GET /set-password/{token}": "404 404 404 404 404 404 404",
    "POST /set-password/{token}": "404 404 404 404 404 404 404",
}
# Signed-out outcomes of the public pages (every other page sends the visitor to sign in).
PUBLIC = {"GET /login": "200", "POST /login": "ok", "POST /logout": "ok",
          "GET /login/code": "redirect",
          "GET /set-password/{token}": "404", "POST /set-password/{token}": "404"}
# Records a page names in its query or its form rather than its path (world keys).
QUERY = {
    "GET /allocate": {"worker_id": "staff_id"},
    "GET /override-requests/new": {"staff_id": "staff_id"},
    "GET /breaches": {"nqsw_id": "staff_id"},
    "GET /breaches/export.csv": {"nqsw_id": "staff_id"},
    "GET /exports/breaches.csv": {"nqsw_id": "staff_id"},
    "GET /exports/breaches.xlsx": {"nqsw_id": "staff_id"},
}
FORM = {
    "POST /enrolments/new": {"staff_id": "staff_id"},
    "POST /allocate/check": {"worker_id": "staff_id"},
    "POST /allocate": {"worker_id": "staff_id"},
    "POST /allocate/override": {"worker_id": "staff_id"},
    "POST /override-requests": {"staff_id": "staff_id"},
}
# Pages about lost (cancelled) time: rebooking is offered for nothing else.
LOST_ENTRY = {
    "GET /nqsws/{staff_id}/diary/{entry_id}/rebook",
    "POST /nqsws/{staff_id}/diary/{entry_id}/rebook",
}
REDIRECT_CODES = (301, 302, 303, 307, 308)
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "a long enough passphrase"


def _app_keys() -> list[str]:
    with _throwaway_app() as app:
        return [key for key, _route, guarded in application_routes(app) if guarded]


class _throwaway_app:
    """An application on an empty SQLite file, to read its route table."""

    def __enter__(self) -> FastAPI:
        import tempfile
        from pathlib import Path

        self._tmp = tempfile.TemporaryDirectory()
        tmp = Path(self._tmp.name)
        self.app = create_app(Settings(  # type: ignore[call-arg]
            database_url=f"sqlite:///{tmp / 'routes.db'}", data_dir=tmp,
            scheduler_enabled=False,
        ))
        return self.app

    def __exit__(self, *exc: object) -> None:
        self.app.state.engine.dispose()
        self._tmp.cleanup()


PAGE_KEYS = _app_keys()


# ---- who is signed in ------------------------------------------------------------------


@dataclass
class Visitor:
    cookie: str  # the page session (signed in) or the pre-session CSRF cookie (signed out)
    csrf: str


@dataclass
class PageWorld:
    world: World
    visitors: dict[str, Visitor]  # role -> signed in; "anonymous" -> signed out
    lost: dict[int, int]  # family NQSW -> a cancelled diary entry of theirs


def _session_cookie(session: Session, app: FastAPI, staff: Staff) -> Visitor:
    """A real page session for this person: the cookie `/login` would set, and the CSRF
    token their pages would embed."""
    account = repo.account_for_staff(session, staff.id or 0)
    assert account is not None
    cookie, _row = sessions.start(session, account, app.state.settings, address="testclient",
                                  user_agent="pytest")
    return Visitor(cookie, token_for(app.state.settings.resolved_secret_key(), cookie))


def _page_world(session: Session, app: FastAPI, anonymous: TestClient) -> PageWorld:
    world = build_world(session)
    lost: dict[int, int] = {}
    for family in (world.own, world.other):
        # An advanced practitioner cancels only the joint sessions they attend.
        row = session.get(SupervisionSession, family.supervision)
        assert row is not None
        row.kind = "joint_with_ap"
        booked = session.get(ProtectedTime, family.entry)
        assert booked is not None
        cancelled = ProtectedTime(
            enrolment_id=booked.enrolment_id, day=booked.day, length="full_day", hours=7.4,
            purpose="study", status="cancelled", cancelled_on=booked.day,
            cancelled_by_id=family.people["team_manager"].id, cancel_reason="cover",
        )
        session.add(cancelled)
        session.flush()
        lost[family.nqsw] = cancelled.id or 0
    visitors = {role: _session_cookie(session, app, world.principal(role)) for role in ROLES}
    session.commit()  # a savepoint: a failing request cannot undo the world
    anonymous.cookies.clear()
    page = anonymous.get("/login")
    token = CSRF_FIELD.search(page.text)
    seed = anonymous.cookies.get(PRE_COOKIE)
    assert token and seed, "the sign-in page hands out the pre-session CSRF cookie and token"
    visitors["anonymous"] = Visitor(seed, token.group(1))
    return PageWorld(world, visitors, lost)


# ---- asking -------------------------------------------------------------------------------


def _ids(pw: PageWorld, family: Family, role: str) -> dict[str, int | str]:
    world = pw.world
    mine = family is world.own
    return {
        "staff_id": family.nqsw,
        "case_id": family.case,
        "allocation_id": family.allocation,  # the NQSW co-works the case
        "breach_id": family.breach,
        "entry_id": family.entry,
        "session_id": family.supervision,
        "sign_off_id": family.sign_off,
        "adjustment_id": family.adjustment,
        "notification_id": world.notifications[role if mine else "other"],
        "token": "rfl_not-a-real-link",
        "request_id": 999_999,  # no such override request
        "run_id": 999_999,  # no such import run
    }


def _ask(client: TestClient, key: str, pw: PageWorld, family: Family, role: str) -> str:
    """One request as `role` ("anonymous": signed out) about `family`'s records."""
    method, template = key.split(" ", 1)
    ids = _ids(pw, family, "nqsw" if role == "anonymous" else role)
    if key in LOST_ENTRY:
        ids["entry_id"] = pw.lost[family.nqsw]
    url = template.format(**ids)
    visitor = pw.visitors[role]
    client.cookies.clear()
    client.cookies.set(PRE_COOKIE if role == "anonymous" else sessions.COOKIE_NAME,
                       visitor.cookie)
    params = {name: ids[value] for name, value in QUERY.get(key, {}).items()}
    if method == "GET":
        response = client.get(url, params=params)
    else:
        form = {name: str(ids[value]) for name, value in FORM.get(key, {}).items()}
        form["csrf_token"] = visitor.csrf
        response = client.request(method, url, params=params, data=form)
    return _classify(method, response)


def _classify(method: str, response: Any) -> str:
    status = response.status_code
    assert status < 500, f"server error {status}: {response.text[:300]}"
    location = response.headers.get("location", "")
    if status in REDIRECT_CODES and location.startswith("/login?next="):
        return "login"
    if status in (401, 403, 404):
        return str(status)
    if method != "GET":
        return "ok"
    if status in REDIRECT_CODES:
        return "redirect"
    return str(status)


def _outcomes(row: str) -> dict[str, tuple[str, str]]:
    cells = row.split()
    assert len(cells) == len(ROLES), f"{row!r} needs {len(ROLES)} cells"
    pairs = {}
    for role, cell in zip(ROLES, cells, strict=True):
        own, _, other = cell.partition("/")
        pairs[role] = (own, other or own)
    return pairs


def _scoped(key: str) -> bool:
    return "{" in key or key in QUERY or key in FORM


@pytest.fixture
def browser(app_on_test_session: FastAPI) -> Iterator[TestClient]:
    """A client that does not follow redirects and asks for pages, as a browser does."""
    with TestClient(app_on_test_session, follow_redirects=False) as client:
        client.headers["Accept"] = "text/html"
        yield client


# ---- the matrix ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(set(PAGE_KEYS) | set(PAGE_EXPECT)))
def test_page_access(
    key: str, browser: TestClient, app_on_test_session: FastAPI, db_session: Session
) -> None:
    assert key in PAGE_KEYS, f"{key} is in PAGE_EXPECT but the application has no such page"
    assert key in PAGE_EXPECT, f"{key} has no row in PAGE_EXPECT: add one (and its rule)"
    assert key in PAGE_ACCESS, f"{key} has no rule in app/auth/page_access.py"
    pw = _page_world(db_session, app_on_test_session, browser)
    signed_out = _ask(browser, key, pw, pw.world.own, "anonymous")
    assert signed_out == PUBLIC.get(key, "login"), f"{key} signed out answered {signed_out}"
    scoped = _scoped(key)
    got: dict[str, tuple[str, str]] = {}
    for role in ROLES:
        own = _ask(browser, key, pw, pw.world.own, role)
        other = _ask(browser, key, pw, pw.world.other, role) if scoped else own
        got[role] = (own, other)
    expected = _outcomes(PAGE_EXPECT[key])
    if not scoped:
        expected = {role: (own, own) for role, (own, _other) in expected.items()}
    assert got == expected, _explain(key, expected, got)


def _explain(key: str, expected: dict[str, tuple[str, str]],
             got: dict[str, tuple[str, str]]) -> str:
    lines = [f"{key}: role: expected own/other -> got own/other"]
    for role in ROLES:
        mark = "  " if expected[role] == got[role] else "!!"
        lines.append(f"{mark} {role}: {'/'.join(expected[role])} -> {'/'.join(got[role])}")
    return "\n".join(lines)


# ---- the table and the application agree -------------------------------------------------


def test_every_page_has_exactly_one_rule_and_nothing_is_served_outside_both_tables() -> None:
    with _throwaway_app() as app:
        index = build_page_index(app)
        outside = [key for key, _route, guarded in application_routes(app) if not guarded]
    assert index.missing == [], "pages without a rule in app/auth/page_access.py"
    assert index.stale == [], "rules in app/auth/page_access.py for pages that do not exist"
    assert index.unguarded == [], (
        "routes outside /api/v1 that do not go through the page guard: include them in "
        "web_router, or say in page_access.OUTSIDE why they need neither table"
    )
    assert sorted(outside) == sorted(OUTSIDE), "OUTSIDE names a route the app does not serve"
    assert sorted(PAGE_EXPECT) == sorted(PAGE_ACCESS)


def test_a_page_without_a_rule_is_refused_reported_and_stops_production(
    test_settings: Settings, db_session: Session
) -> None:
    app = create_app(test_settings)
    guarded = APIRouter(include_in_schema=False, dependencies=[Depends(authorize_page)])

    @guarded.get("/probe-page")
    def probe() -> dict[str, str]:
        return {"shown": "yes"}

    app.include_router(guarded)

    @app.get("/sneaked-in", include_in_schema=False)
    def sneaked() -> dict[str, str]:
        return {"shown": "yes"}

    def _session() -> Iterator[Session]:
        yield db_session

    app.dependency_overrides[get_session] = _session
    try:
        index = build_page_index(app)
        assert index.missing == ["GET /probe-page"]
        assert index.unguarded == ["GET /sneaked-in"]
        with pytest.raises(PageTableError, match="GET /probe-page"):
            check_page_table(app, test_settings.model_copy(update={"mode": "production"}))
        staff = make_staff(db_session, "asye_coordinator")
        token = token_for_staff(db_session, staff)
        with TestClient(app, follow_redirects=False) as client:
            client.headers["Accept"] = "text/html"
            signed_out = client.get("/probe-page")
            assert signed_out.status_code == 303
            assert signed_out.headers["location"] == "/login?next=/probe-page"
            refused = client.get("/probe-page", headers={"Authorization": f"Bearer {token}"})
            assert refused.status_code == 403
            assert "no access rule" in refused.text
    finally:
        app.state.engine.dispose()


# ---- forms, signing in and out -----------------------------------------------------------

UNSAFE_PAGES = sorted(k for k in PAGE_EXPECT if not k.startswith("GET "))


def test_every_form_needs_its_csrf_token(
    browser: TestClient, app_on_test_session: FastAPI, db_session: Session
) -> None:
    """The middleware guards every state-changing page, before the page guard or the
    handler runs: without the token, or with someone else's, nothing happens."""
    pw = _page_world(db_session, app_on_test_session, browser)
    manager = pw.visitors["team_manager"]
    other = pw.visitors["senior_manager"]
    ids = _ids(pw, pw.world.own, "team_manager")
    for key in UNSAFE_PAGES:
        method, template = key.split(" ", 1)
        url = template.format(**ids)
        for cookie, token in ((manager.cookie, None), (manager.cookie, other.csrf),
                              (manager.cookie, "0" * 64)):
            browser.cookies.clear()
            browser.cookies.set(sessions.COOKIE_NAME, cookie)
            data = {} if token is None else {"csrf_token": token}
            response = browser.request(method, url, data=data)
            assert response.status_code == 403, (key, token, response.status_code)
            assert "did not come from Ringfence" in response.text, key
        # A signed-out visitor is refused the same way, before being sent to sign in.
        browser.cookies.clear()
        assert browser.request(method, url, data={}).status_code == 403, key
    assert db_session.exec(select(LoginSession).where(
        col(LoginSession.ended_at).is_not(None))).first() is None, "a forged logout worked"


def test_a_read_only_token_cannot_use_a_form(
    browser: TestClient, db_session: Session
) -> None:
    nqsw = make_staff(db_session, "nqsw")
    token = token_for_staff(db_session, nqsw, scopes=("read",))
    db_session.commit()
    response = browser.post(f"/nqsws/{nqsw.id}/diary", data={},
                            headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert "read-only" in response.text


def test_signing_in_through_the_form_then_out(
    browser: TestClient, app_on_test_session: FastAPI, db_session: Session
) -> None:
    pw = _page_world(db_session, app_on_test_session, browser)
    manager = pw.world.own.people["team_manager"]
    account = repo.account_for_staff(db_session, manager.id or 0)
    assert account is not None
    accounts.set_password(db_session, account, PASSWORD, actor_id=None)
    db_session.commit()
    browser.cookies.clear()
    wanted = f"/nqsws/{pw.world.own.nqsw}"
    sent = browser.get(wanted)
    assert sent.status_code == 303 and sent.headers["location"] == f"/login?next={wanted}"
    form = browser.get(sent.headers["location"])
    token = CSRF_FIELD.search(form.text).group(1)  # type: ignore[union-attr]
    signed_in = browser.post("/login", data={"email": account.email, "password": PASSWORD,
                                             "next": wanted, "csrf_token": token})
    assert signed_in.status_code == 303 and signed_in.headers["location"] == wanted
    cookie = browser.cookies.get(sessions.COOKIE_NAME)
    assert cookie
    assert browser.get(wanted).status_code == 200
    assert browser.get(f"/nqsws/{pw.world.other.nqsw}").status_code == 404
    # htmx is sent to sign in with HX-Redirect once the session has ended.
    csrf = token_for(app_on_test_session.state.settings.resolved_secret_key(), cookie)
    out = browser.post("/logout", data={"csrf_token": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/login?signed_out=1"
    cleared = out.headers["set-cookie"]
    assert cleared.startswith(f"{sessions.COOKIE_NAME}=") and "Max-Age=0" in cleared
    browser.cookies.clear()
    browser.cookies.set(sessions.COOKIE_NAME, cookie)
    replayed = browser.get(wanted, headers={"HX-Request": "true", "HX-Current-URL":
                                            f"http://testserver{wanted}"})
    assert replayed.status_code == 200
    assert replayed.headers["HX-Redirect"] == f"/login?next={wanted}"


def test_logout_behind_https_clears_the_secure_host_cookie(
    test_settings: Settings, db_session: Session
) -> None:
    """A `__Host-` cookie is only replaced by one that is also Secure, with Path=/."""
    secure = test_settings.model_copy(update={"secure_cookies": True})
    app = create_app(secure)

    def _session() -> Iterator[Session]:
        yield db_session
        db_session.commit()

    app.dependency_overrides[get_session] = _session
    staff = make_staff(db_session, "nqsw")
    token_for_staff(db_session, staff)  # gives them an account
    account = repo.account_for_staff(db_session, staff.id or 0)
    assert account is not None
    cookie, row = sessions.start(db_session, account, secure, address="testclient",
                                 user_agent="pytest")
    db_session.commit()
    name = sessions.cookie_name(secure)
    assert name.startswith("__Host-")
    try:
        with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
            client.cookies.set(name, cookie)
            csrf = token_for(secure.resolved_secret_key(), cookie)
            assert client.get(f"/nqsws/{staff.id}", headers={"Accept": "text/html"}
                              ).status_code == 200
            out = client.post("/logout", data={"csrf_token": csrf})
            assert out.status_code == 303
            cleared = out.headers["set-cookie"]
            assert cleared.startswith(f"{name}=")
            for attribute in ("Max-Age=0", "Path=/", "Secure", "HttpOnly"):
                assert attribute in cleared, (attribute, cleared)
            db_session.refresh(row)
            assert row.ended_at is not None
    finally:
        app.state.engine.dispose()


# --- a page's submission: a refused change keeps nothing --------------------------------


def _form_post(body: bytes) -> Any:
    from starlette.requests import Request

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    return Request({"type": "http", "method": "POST", "path": "/", "query_string": b"",
                    "headers": [(b"content-type", b"application/x-www-form-urlencoded")]},
                   receive)


def _run(coroutine: Any) -> Any:
    """Run a page coroutine to its end on a loop of its own, in a thread of its own: the
    browser tests' driver may already be running a loop in this thread."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_a_refused_page_submission_keeps_nothing_and_a_granted_one_redirects(
    engine: Any,
) -> None:
    """The service may write before it refuses; the page helper's savepoint discards it,
    and the request's own transaction carries on to draw the page again."""
    import uuid

    from fastapi.responses import Response

    from app.errors import DomainError
    from app.models import ServiceArea
    from app.web.submit import NoAnswers, Questions, Refusal, submit

    name = f"Refused {uuid.uuid4().hex}"
    shown: list[Refusal] = []

    def page(refused: Refusal) -> Response:
        shown.append(refused)
        return Response(status_code=refused.status_code)

    def refuse(_: NoAnswers) -> str:
        session.add(ServiceArea(name=name))
        session.flush()
        raise DomainError("refused on 2026-12-01", field="name")

    def grant(_: NoAnswers) -> str:
        session.add(ServiceArea(name=name))
        session.flush()
        return "/done"

    with Session(engine) as session:
        refused = _run(submit(_form_post(b"csrf_token=t&name=x"), session,
                                     Questions(NoAnswers), act=refuse, done=str, page=page))
        assert refused.status_code == 422
        assert shown[0].errors.get("name") == "Refused on 1 December 2026"
        assert shown[0].values == {"name": "x"}
        assert session.exec(select(ServiceArea).where(col(ServiceArea.name) == name)).first() \
            is None

        granted = _run(submit(_form_post(b"name=x"), session, Questions(NoAnswers),
                                     act=grant, done=str, page=page))
        assert granted.status_code == 303 and granted.headers["location"] == "/done"
        assert session.exec(select(ServiceArea).where(col(ServiceArea.name) == name)).one()
        session.rollback()  # the test's own change is not kept
