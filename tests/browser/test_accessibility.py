"""Every page, for every role that can see it, checked by axe-core at desktop and phone
widths, in a real Chromium against a running server.

A page passes only with no axe violation of any impact, with every rule axe runs by
default (WCAG 2.0, 2.1 and 2.2 A and AA, and its best practices), and, at 390 px, only
if nothing makes it scroll sideways. The pages come from the page access table
(app/auth/page_access.py), so a new page fails here until it has the records its path
names (`_paths`) or a reason to be left out (`NOT_HTML`).

The organisation is the browser seed plus what the pages need something to show: an
admin and a social worker, diary entries (booked, taken, cancelled), supervision
sessions, a sign-off awaiting approval, a calendar link and a breach about Sam. It has a
server of its own, so the other browser tests never see those records.

Runs on SQLite only: the markup does not depend on the database, and the sweep is the
slowest browser test.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from app.auth.accounts import create_account
from app.auth.page_access import PAGE_ACCESS
from app.db import make_engine
from app.models import (
    Breach,
    CalendarToken,
    Enrolment,
    ProtectedTime,
    SignOff,
    Staff,
    SupervisionSession,
)
from tests.browser.conftest import shot
from tests.browser.dates import fill_date
from tests.browser.seed import PASSWORD, Seeded, reconcile, seed, seed_accounts
from tests.support.live_server import LiveServer, live_server

pytest.importorskip("playwright")

# Markup does not depend on the database, so the sweep runs on SQLite only (the other
# browser tests, which drive journeys that write, run on both).
pytestmark = [pytest.mark.browser, pytest.mark.only_backend("sqlite")]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_VERSION = "4.14.1"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
AXE_URL = "http://axe.test/axe.min.js"  # answered by the test itself, never fetched
WIDTHS = (1280, 390)
# Script errors per page (by id), and which pages the role sweep has checked, as whom.
SCRIPT_ERRORS: dict[int, list[str]] = {}
SWEPT: dict[str, list[str]] = {}
# One signed-in person per role (seed keys).
ROLE_PEOPLE = {
    "nqsw": "sam",
    "advanced_practitioner": "ap",
    "social_worker": "sw",
    "team_manager": "manager",
    "senior_manager": "senior",
    "asye_coordinator": "coordinator",
    "admin": "admin",
}
# GET routes in the page table that are not pages, or are checked on their own below.
NOT_HTML = {
    "GET /breaches/export.csv": "a CSV download",
    **{f"GET /exports/{report}.{fmt}": f"a {fmt.upper()} download"
       for report in ("breaches", "workload", "compliance") for fmt in ("csv", "xlsx")},
    "GET /login": "checked signed out (test_signed_out_pages)",
    "GET /set-password/{token}": "checked signed out, with a real link",
    "GET /login/code": "needs a correct password first: checked in test_second_factor.py",
}
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return {
    version: axe.version,
    violations: result.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help,
      targets: v.nodes.map(n => n.target.join(" ")).slice(0, 5),
    })),
  };
}"""
WIDE = "() => [document.documentElement.scrollWidth, window.innerWidth]"
WIDEST = """() => {
  const limit = window.innerWidth;
  return [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > limit + 0.5)
    .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
      + (e.className && typeof e.className === "string" ? "." + e.className.trim()
         .split(/\\s+/).join(".") : ""));
}"""


@dataclass(frozen=True)
class Records:
    """The records the pages' paths name."""

    seeded: Seeded
    breach: int
    booked: int  # a booked diary entry of Sam's (move, cancel)
    lost: int  # a cancelled one (rebook)
    planned: int  # a planned supervision session (cancel)
    set_password: str  # a usable one-time link's path


@pytest.fixture(scope="module")
def a11y_site(
    backend: str, make_database_url: Callable[..., str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, Records]]:
    url = make_database_url()
    records = seed_records(url)
    with live_server(url, tmp_path_factory.mktemp("a11y-data")) as server:
        yield server, records


def seed_records(url: str) -> Records:
    """The browser seed, one person per role, and the records the pages name, committed
    to the migrated database at `url` (shared with tests/browser/screenshots.py)."""
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        seeded = seed(session)
        _more_people(session, seeded)
        seed_accounts(session, seeded)
        reconcile(session, seeded)
        records = _records(session, seeded, url)
        session.commit()
    engine.dispose()
    return records


def _more_people(session: Session, seeded: Seeded) -> None:
    """The two roles the shared seed has no one for."""
    north = session.get(Staff, seeded.ids["manager"])
    assert north is not None
    for key, name, role, team in (("sw", "Kai Morgan", "social_worker", north.team_id),
                                  ("admin", "Ada Lewis", "admin", None)):
        person = Staff(name=name, email=f"{key}@example.org", role=role, team_id=team,
                       start_date=date(2020, 1, 6))
        session.add(person)
        session.flush()
        assert person.id is not None
        seeded.ids[key] = person.id
        seeded.emails[key] = person.email


def _next_weekday(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _records(session: Session, seeded: Seeded, url: str) -> Records:
    """Diary entries, supervision and a sign-off for Sam, so every page shows a table."""
    from app.auth import accounts
    from app.settings import Settings

    sam = seeded.ids["sam"]
    enrolment = session.exec(select(Enrolment).where(Enrolment.staff_id == sam)).one()
    assert enrolment.id is not None
    today = date.today()
    soon = _next_weekday(today + timedelta(days=14))
    past = _next_weekday(today - timedelta(days=21))
    booked = ProtectedTime(enrolment_id=enrolment.id, day=soon, length="full_day", hours=7.4,
                           purpose="study", booked_by_id=sam)
    half = ProtectedTime(enrolment_id=enrolment.id, day=_next_weekday(soon + timedelta(days=3)),
                         length="half_day", half="am", hours=3.7, purpose="reflection",
                         booked_by_id=sam, note="Reading for the next review")
    taken = ProtectedTime(enrolment_id=enrolment.id, day=past, length="full_day", hours=7.4,
                          purpose="study", status="taken", booked_by_id=sam,
                          taken_at=datetime.combine(past, time(17), tzinfo=UTC))
    lost = ProtectedTime(enrolment_id=enrolment.id, day=_next_weekday(past + timedelta(days=2)),
                         length="full_day", hours=7.4, purpose="study", status="cancelled",
                         booked_by_id=sam, cancelled_on=past,
                         cancelled_by_id=seeded.ids["manager"], cancel_reason="Court cover")
    held = SupervisionSession(enrolment_id=enrolment.id, day=past, start_time=time(10),
                              supervisor_id=seeded.ids["manager"], kind="reflective",
                              recorded_by_id=seeded.ids["manager"])
    planned = SupervisionSession(enrolment_id=enrolment.id, day=soon, start_time=time(14),
                                 supervisor_id=seeded.ids["ap"], kind="joint_with_ap",
                                 recorded_by_id=seeded.ids["manager"])
    called_off = SupervisionSession(enrolment_id=enrolment.id, day=past + timedelta(days=7),
                                    supervisor_id=seeded.ids["manager"], kind="case",
                                    cancelled=True, cancel_reason="Sickness",
                                    cancelled_on=past, cancelled_by_id=seeded.ids["manager"])
    awaiting = SignOff(enrolment_id=enrolment.id, kind="child_protection", signed_on=past,
                       team_manager_id=seeded.ids["manager"],
                       senior_manager_id=seeded.ids["senior"],
                       team_manager_approved_at=datetime.combine(past, time(9), tzinfo=UTC),
                       recorded_by_id=seeded.ids["manager"])
    # Sam's calendar link (the diary says one is live, the confirmation warns before
    # replacing it) and a breach about Sam (the page of breaches about them has a row).
    feed = CalendarToken(staff_id=sam, token_hash=hashlib.sha256(b"a11y feed").hexdigest())
    about_sam = Breach(staff_id=sam, enrolment_id=enrolment.id, policy_id="supervision",
                       rule_id="supervision-gap", kind="supervision", level="block",
                       severity="medium", status="open", policy_version="test",
                       reason="No supervision for 6 weeks", opened_on=past,
                       last_seen_on=past, evidence={"measured": 6, "limit": 4})
    session.add_all([booked, half, taken, lost, held, planned, called_off, awaiting, feed,
                     about_sam])
    # A proposed adjustment for Sam, waiting for the coordinator (the adjustment pages).
    from app.models import Adjustment
    session.add(Adjustment(enrolment_id=enrolment.id, policy_id="stage-caps",
                           parameter="caseload-cap.bands.2.cap", value=12, status="pending",
                           reason="Building confidence", valid_from=past,
                           proposed_by_id=seeded.ids["manager"]))
    # A team manager's request for an override of Leo's cap, waiting for the senior
    # manager (the override request pages).
    from app.models import Case, OverrideRequest
    spare = session.exec(select(Case).where(Case.reference == seeded.spare_cases[-1])).one()
    session.add(OverrideRequest(case_id=spare.id, worker_id=seeded.ids["leo"], role="holder",
                                starts_on=today, requested_by_id=seeded.ids["manager"],
                                reason="Leo already knows this family from his placement",
                                expires_on=today + timedelta(days=7)))
    # A previewed import that found a bad row and a consequence (the import result page).
    from app.models.imports import ImportRun
    session.add(ImportRun(
        kind="allocations", profile="lcs", file_name="allocations-export-2026-11-20.csv",
        sha256="9f" * 32, size=2048, status="previewed", as_of=today, rows_total=2, created=1,
        report={"problem": None, "errors": [], "consequences": [{"staff_id": sam, "findings": [
            {"sentence": "After the import, Sam: 7 cases over the cap of 5: a breach opens, "
                         "dated 3 November 2026 when it began."}]}]}))
    session.flush()
    breach = session.exec(select(Breach).order_by(col(Breach.id))).first()
    assert breach is not None and breach.id is not None

    newcomer = Staff(name="Bo Newman", email="bo@example.org", role="social_worker",
                     start_date=date(2020, 1, 6))
    session.add(newcomer)
    session.flush()
    account = create_account(session, email=newcomer.email, staff_id=newcomer.id)
    settings = Settings(database_url=url, base_url="http://ringfence.test")  # type: ignore[call-arg]
    accounts.send_password_link(session, account, requested_by=None, settings=settings)
    return Records(seeded, breach.id, booked.id, lost.id, planned.id,  # type: ignore[arg-type]
                   _link_path(session, newcomer.email))


def _link_path(session: Session, email: str) -> str:
    """The set-password link's path, as read from the queued email."""
    import re

    from app.models import OutboxMessage

    message = session.exec(select(OutboxMessage).where(
        OutboxMessage.to_address == email).order_by(col(OutboxMessage.id).desc())).first()
    assert message is not None
    found = re.search(r"http://ringfence\.test(/set-password/\S+)", message.text)
    assert found, message.text
    return found.group(1)


def _paths(records: Records) -> dict[str, str]:
    """Every GET page of the page access table, with real records in its path."""
    values = {
        "staff_id": records.seeded.ids["sam"],
        "breach_id": records.breach,
        "session_id": records.planned,
        "case_id": 1,  # the seed's first case, Sam's, in Riverside Assessment
        "allocation_id": 1,  # Sam's allocation of that case
        "adjustment_id": 1,  # the proposal for Sam `_records` makes, the first adjustment
        "request_id": 1,  # the override request for Leo `_records` makes, the only one
        "run_id": 1,  # the previewed import `_records` makes, the only one
    }
    entry = {
        "GET /nqsws/{staff_id}/diary/{entry_id}/rebook": records.lost,
    }
    paths: dict[str, str] = {}
    for key in PAGE_ACCESS:
        method, route = key.split(" ", 1)
        if method != "GET" or key in NOT_HTML:
            continue
        paths[key] = route.format(**values, entry_id=entry.get(key, records.booked))
    return paths


def _axe_source() -> bytes:
    source = AXE.read_bytes()
    assert hashlib.sha256(source).hexdigest() == AXE_SHA256, "axe.min.js is not the pinned copy"
    return source


def _check(page: Any, label: str) -> list[str]:
    """axe and the sideways-scroll check at each width, for the page as it now stands."""
    problems: list[str] = []
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.add_script_tag(url=AXE_URL)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        result = page.evaluate(AXE_RUN)
        assert result["version"] == AXE_VERSION
        for v in result["violations"]:
            problems.append(f"{label} @{width}px: {v['id']} ({v['impact']}) {v['help']}: "
                            + "; ".join(v["targets"]))
        problems += [f"{label}: script error: {error}" for error in SCRIPT_ERRORS.get(id(page), [])]
        SCRIPT_ERRORS.get(id(page), []).clear()
        scroll, inner = page.evaluate(WIDE)
        if width < 1000 and scroll > inner:
            problems.append(f"{label} @{width}px: scrolls sideways ({scroll} > {inner}): "
                            + ", ".join(page.evaluate(WIDEST)))
    return problems


@pytest.fixture(scope="module")
def axe_context(browser: Any, a11y_site: tuple[LiveServer, Records]) -> Callable[[], Any]:
    server, _records_ = a11y_site

    source = _axe_source()

    def new_page() -> Any:
        # The pinned axe is answered by the browser itself from the test's own copy (the
        # service never serves it), cacheable so that Chromium compiles it once. The
        # service's content security policy rightly refuses a script it did not serve:
        # only this test's context bypasses it.
        context = browser.new_context(base_url=server.base_url, bypass_csp=True,
                                      viewport={"width": WIDTHS[0], "height": 900})
        context.set_default_timeout(10_000)
        context.route(AXE_URL, lambda route: route.fulfill(
            status=200, body=source, content_type="text/javascript",
            headers={"Cache-Control": "max-age=3600"}))
        page = context.new_page()
        errors = SCRIPT_ERRORS.setdefault(id(page), [])
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    return new_page


@pytest.mark.parametrize("role", list(ROLE_PEOPLE))
def test_every_page_the_role_sees_has_no_axe_violation(
    role: str, axe_context: Callable[[], Any], a11y_site: tuple[LiveServer, Records]
) -> None:
    _server, records = a11y_site
    page = axe_context()
    try:
        _sign_in(page, records, role)
        problems: list[str] = []
        seen: set[str] = set()
        for key, path in _paths(records).items():
            response = page.goto(path)
            assert response is not None
            if response.status != 200:
                continue  # not this role's page (its 403 and 404 pages are checked below)
            final = page.url
            if final in seen:
                continue  # sent on to a page already checked
            seen.add(final)
            problems += _check(page, f"{role} {key}")
            SWEPT.setdefault(key, []).append(role)
            _shots(page, role, key)
        assert seen, f"{role} saw no page at all"
        problems += _refusal_pages(page, role)
        assert not problems, "\n".join(problems)
    finally:
        page.context.close()


def _refusal_pages(page: Any, role: str) -> list[str]:
    """The page for a record out of reach (404, or 403 for a role with no NQSW pages), and
    the 403 page for a role the dashboard is not for."""
    problems: list[str] = []
    response = page.goto("/nqsws/999999")
    assert response is not None and response.status in (403, 404)
    problems += _check(page, f"{role} {response.status} page")
    if role in ("nqsw", "admin", "social_worker", "advanced_practitioner"):
        response = page.goto("/breaches")
        assert response is not None and response.status == 403
        problems += _check(page, f"{role} 403 page")
    return problems


def _sign_in(page: Any, records: Records, role: str) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(records.seeded.emails[ROLE_PEOPLE[role]])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda u: "/login" not in u)


def _shots(page: Any, role: str, key: str) -> None:
    """Screenshots of the busiest pages at both widths, when RINGFENCE_SHOTS is set."""
    wanted = {("asye_coordinator", "GET /breaches"): "dashboard",
              ("team_manager", "GET /nqsws/{staff_id}/diary"): "diary",
              ("team_manager", "GET /nqsws/{staff_id}/supervision"): "supervision",
              ("team_manager", "GET /nqsws/{staff_id}"): "nqsw",
              ("team_manager", "GET /nqsws/{staff_id}/programme"): "programme"}
    name = wanted.get((role, key))
    if name is None:
        return
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        shot(page, f"a11y-{name}-{width}")


def test_every_get_page_is_swept(a11y_site: tuple[LiveServer, Records]) -> None:
    """A page added to the access table is swept, or says why not; and once the sweep has
    run for every role, each page was shown to (and checked for) at least one of them."""
    _server, records = a11y_site
    gets = {key for key in PAGE_ACCESS if key.startswith("GET ")}
    assert gets == set(_paths(records)) | set(NOT_HTML)
    if len({role for roles in SWEPT.values() for role in roles}) == len(ROLE_PEOPLE):
        unswept = set(_paths(records)) - set(SWEPT)
        assert not unswept, f"no role was shown these pages: {sorted(unswept)}"


def test_signed_out_pages(
    axe_context: Callable[[], Any], a11y_site: tuple[LiveServer, Records]
) -> None:
    _server, records = a11y_site
    page = axe_context()
    try:
        problems: list[str] = []
        for label, path in (("sign-in page", "/login"),
                            ("set-password page", records.set_password),
                            ("unknown set-password link", "/set-password/not-a-real-token")):
            page.goto(path)
            problems += _check(page, label)
        # The sign-in form with its errors showing.
        page.goto("/login")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_selector(".govuk-error-summary")
        problems += _check(page, "sign-in errors")
        assert not problems, "\n".join(problems)
    finally:
        page.context.close()


# Each keyboard stop, focused: how it is drawn, to compare with the same element unfocused.
# GOV.UK draws a radio's or checkbox's focus on its label (the input itself is invisible).
DRAWN = """() => { window.__drawn = (e) => {
  const box = (e.type === "radio" || e.type === "checkbox") && e.labels && e.labels.length
    ? getComputedStyle(e.labels[0], "::before") : getComputedStyle(e);
  return {outline: box.outlineStyle !== "none" && parseFloat(box.outlineWidth) >= 2
            && !/rgba\\(.*, 0\\)$/.test(box.outlineColor) ? box.outlineColor : "",
          shadow: box.boxShadow, background: box.backgroundColor};
}; }"""
FOCUS_STYLE = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  window.__stops = window.__stops || [];
  if (window.__stops.some(s => s.element === e)) return {again: true};
  const drawn = window.__drawn(e);
  const name = e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
    + " " + (e.getAttribute("aria-label") || e.textContent || e.name || "")
      .replace(/\\s+/g, " ").trim().slice(0, 40);
  window.__stops.push({element: e, drawn, name});
  return {again: false};
}"""
UNSEEN_FOCUS = """() => {
  document.activeElement && document.activeElement.blur();
  return window.__stops.filter(s => {
    const c = window.__drawn(s.element);
    return !s.drawn.outline && s.drawn.shadow === c.shadow && s.drawn.background === c.background;
  }).map(s => s.name);
}"""


@pytest.mark.parametrize("role", ["nqsw", "team_manager", "asye_coordinator"])
def test_every_keyboard_stop_shows_its_focus(
    role: str, axe_context: Callable[[], Any], a11y_site: tuple[LiveServer, Records]
) -> None:
    """Tabbing through each page these roles see, every stop is drawn differently when it
    has focus: a visible outline, or (GOV.UK's yellow) a changed background or shadow."""
    _server, records = a11y_site
    page = axe_context()
    try:
        _sign_in(page, records, role)
        unseen: list[str] = []
        seen: set[str] = set()
        for key, path in _paths(records).items():
            response = page.goto(path)
            assert response is not None
            if response.status != 200 or page.url in seen:
                continue
            seen.add(page.url)
            page.evaluate(DRAWN)
            stops = 0
            for _ in range(200):
                page.keyboard.press("Tab")
                stop = page.evaluate(FOCUS_STYLE)
                if stop is None or stop["again"]:
                    break
                stops += 1
            assert stops > 3, f"{key}: only {stops} keyboard stops"
            unseen += [f"{role} {key}: {name}" for name in page.evaluate(UNSEEN_FOCUS)]
        assert not unseen, "focus not visible on:\n" + "\n".join(unseen)
    finally:
        page.context.close()


def test_pages_in_their_other_states(
    axe_context: Callable[[], Any], a11y_site: tuple[LiveServer, Records]
) -> None:
    """What htmx swaps in and what a refused form shows: the policy check's verdict, the
    error summary and the messages beside the questions."""
    from playwright.sync_api import expect

    _server, records = a11y_site
    page = axe_context()
    try:
        _sign_in(page, records, "team_manager")
        problems: list[str] = []
        sam = records.seeded.ids["sam"]
        page.goto(f"/allocate?worker_id={sam}")
        page.get_by_label("Case reference").fill(records.seeded.spare_cases[0])
        verdict = page.locator("#whatif-result")
        expect(verdict).to_have_attribute("data-outcome", "warn")
        problems += _check(page, "allocate: the policy check warns")
        page.get_by_role("button", name="Allocate case").click()
        expect(page.locator("#reason-error")).to_be_visible()
        problems += _check(page, "allocate: reason missing")

        page.goto(f"/nqsws/{sam}/diary")
        fill_date(page, "Date", "2026-12-25")
        page.get_by_role("button", name="Book time").click()
        expect(page.locator("#day-error")).to_be_visible()
        problems += _check(page, "diary: bank holiday refused")

        page.goto(f"/nqsws/{sam}/supervision")
        fill_date(page, "Date", "")
        page.get_by_role("button", name="Record session").click()
        expect(page.locator(".govuk-error-summary")).to_be_visible()
        problems += _check(page, "supervision: date missing")
        assert not problems, "\n".join(problems)
    finally:
        page.context.close()
