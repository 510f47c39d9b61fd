"""Jobs that had no page until now, walked in a browser: the ASYE coordinator enrols a
social worker and later completes their programme; an NQSW gets a calendar link on their
diary and replaces it, past the warning; and an NQSW follows the breaches about them.

Runs on a server and database of its own (enrolling and completing change what the
shared site's other tests would see), with the same seeded organisation and Chromium.
Screenshots of each page at both widths go to RINGFENCE_SHOTS when it names a folder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from sqlmodel import Session

from app.db import make_engine
from app.models import Staff
from tests.browser.conftest import shot
from tests.browser.dates import fill_date
from tests.browser.seed import PASSWORD, Seeded, reconcile, seed, seed_accounts
from tests.support.live_server import LiveServer, live_server

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.browser

WIDTHS = (1280, 390)


@pytest.fixture(scope="module")
def own_site(
    make_database_url: Callable[..., str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, Seeded]]:
    url = make_database_url()
    engine = make_engine(url)
    with Session(engine) as session:
        seeded = seed(session)
        kai = Staff(name="Kai Morgan", email="kai@example.org", role="social_worker",
                    team_id=session.get(Staff, seeded.ids["manager"]).team_id,  # type: ignore[union-attr]
                    start_date=date(2024, 1, 8))
        session.add(kai)
        session.flush()
        assert kai.id is not None
        seeded.ids["kai"], seeded.emails["kai"] = kai.id, kai.email
        seed_accounts(session, seeded)
        reconcile(session, seeded)
        session.commit()
    engine.dispose()
    with live_server(url, tmp_path_factory.mktemp("jobs-data")) as server:
        yield server, seeded


@pytest.fixture
def open_as(browser: Any, own_site: tuple[LiveServer, Seeded]) -> Iterator[Callable[[str], Any]]:
    """A fresh browser signed in as one of the seeded people (each in their own context)."""
    server, seeded = own_site
    contexts: list[Any] = []
    problems: list[str] = []

    def open_page(key: str) -> Any:
        context = browser.new_context(base_url=server.base_url,
                                      viewport={"width": WIDTHS[0], "height": 900})
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.goto("/login")
        page.get_by_label("Email address").fill(seeded.emails[key])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda u: "/login" not in u)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not problems, problems


def shots(page: Any, name: str) -> None:
    """The page as it stands, at desktop and phone widths; nothing scrolls sideways."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        scroll, inner = page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner, f"{name} scrolls sideways at {width}px"
        shot(page, f"jobs-{name}-{width}")
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def test_the_coordinator_enrols_a_social_worker_then_completes_their_programme(
    open_as: Callable[[str], Any], own_site: tuple[LiveServer, Seeded]
) -> None:
    _, seeded = own_site
    coordinator = open_as("coordinator")
    coordinator.goto("/enrolments/new")
    expect(coordinator.get_by_role("heading", level=1)).to_have_text("Enrol a member of staff")
    shots(coordinator, "enrol")

    # Nothing chosen: the summary is focused and the message sits beside the question.
    coordinator.get_by_role("button", name="Enrol", exact=True).click()
    summary = coordinator.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Select the member of staff")
    expect(coordinator.locator("#staff-id-error")).to_contain_text("Select the member of staff")
    shots(coordinator, "enrol-refused")

    coordinator.get_by_label("The member of staff").select_option(label="Kai Morgan")
    coordinator.get_by_label("ASYE: the Assessed and Supported Year in Employment").check()
    fill_date(coordinator, "The programme's start date", "2026-09-07")
    coordinator.get_by_label("Their advanced practitioner (optional)").select_option(
        label="Alan Price")
    coordinator.get_by_role("button", name="Enrol", exact=True).click()
    banner = coordinator.locator("#programme-done")
    expect(banner).to_contain_text("Kai Morgan is enrolled on the ASYE from 7 September 2026.")
    assert f"/nqsws/{seeded.ids['kai']}/programme?done=enrolled" in coordinator.url
    expect(coordinator.locator("#programme-status")).not_to_have_text("Withdrawn")
    expect(coordinator.get_by_role("heading", name="Complete the programme")).to_be_visible()
    expect(coordinator.get_by_role("heading", name="Withdraw from the programme")).to_be_visible()
    shots(coordinator, "programme-running")

    coordinator.get_by_label("Passed", exact=True).check()
    coordinator.get_by_role("button", name="Complete the programme").click()
    expect(coordinator.locator("#programme-done")).to_contain_text(
        "Programme completed on")
    expect(coordinator.locator("#programme-done")).to_contain_text(": passed.")
    expect(coordinator.locator("#programme-ended")).to_contain_text("Completed")
    expect(coordinator.get_by_role("button", name="Complete the programme")).to_have_count(0)
    expect(coordinator.get_by_role("button", name="Withdraw from the programme")).to_have_count(0)
    shots(coordinator, "programme-completed")


def test_the_nqsw_subscribes_to_their_calendar_and_replaces_the_link(
    open_as: Callable[[str], Any], own_site: tuple[LiveServer, Seeded]
) -> None:
    server, seeded = own_site
    sam = open_as("sam")
    sam.goto(f"/nqsws/{seeded.ids['sam']}/diary")
    section = sam.locator("#calendar")
    expect(section.get_by_role("heading")).to_have_text("Subscribe in your calendar")
    expect(section).to_contain_text("You do not have a calendar link yet.")
    section.scroll_into_view_if_needed()
    shots(sam, "diary-calendar-none")

    sam.get_by_role("button", name="Get a calendar link").click()
    expect(sam.locator("#diary-done")).to_contain_text("Your calendar link is ready.")
    address = sam.get_by_label("Or copy the web address")
    first = address.input_value()
    assert first.startswith("http") and first.endswith(".ics") and "/calendar/" in first
    webcal = sam.get_by_role("link", name="Open in your calendar app")
    assert webcal.get_attribute("href") == "webcal://" + first.split("://", 1)[1]
    feed = sam.request.get(server.base_url + "/calendar/" + first.rsplit("/", 1)[1])
    assert feed.status == 200 and "BEGIN:VCALENDAR" in feed.text()
    shots(sam, "diary-calendar-link")

    # Later the address is not shown again; replacing it warns first.
    sam.goto(f"/nqsws/{seeded.ids['sam']}/diary")
    expect(sam.locator("#calendar-status")).to_contain_text("You have a calendar link, made on")
    sam.get_by_role("link", name="Get a new calendar link").click()
    expect(sam.get_by_role("heading", level=1)).to_have_text("Replace your calendar link")
    expect(sam.locator(".govuk-warning-text")).to_contain_text(
        "The old link stops working straight away")
    shots(sam, "calendar-replace")
    sam.get_by_role("button", name="Replace my calendar link").click()
    second = sam.get_by_label("Or copy the web address").input_value()
    assert second != first
    old = sam.request.get(server.base_url + "/calendar/" + first.rsplit("/", 1)[1])
    assert old.status == 404


def test_an_nqsw_follows_the_breaches_about_them(
    open_as: Callable[[str], Any], own_site: tuple[LiveServer, Seeded]
) -> None:
    _, seeded = own_site
    leo = open_as("leo")  # over the first-stage cap: a breach about him
    leo.goto(f"/nqsws/{seeded.ids['leo']}/breaches")
    expect(leo.get_by_role("heading", level=1)).to_have_text("Promises broken for you")
    rows = leo.locator("#open-breaches tbody tr")
    expect(rows).not_to_have_count(0)
    shots(leo, "nqsw-breaches")
    rows.first.get_by_role("link").click()
    expect(leo.get_by_role("link", name="Back to the promises broken for you")).to_be_visible()
    expect(leo.get_by_role("button")).not_to_have_count(0)  # sign out only; no decisions
    expect(leo.locator("form[action$='/acknowledge']")).to_have_count(0)
    shots(leo, "nqsw-breach")
    leo.goto("/notifications")
    expect(leo.locator("main")).to_contain_text("A promise to you was broken")
