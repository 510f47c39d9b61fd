"""One live server per database backend, with a small seeded organisation, and one
Chromium for the whole session; each test gets a fresh browser context (no cookies)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from app.db import make_engine
from tests.browser.seed import PASSWORD, Seeded, reconcile, seed, seed_accounts
from tests.support.live_server import LiveServer, live_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


@dataclass(frozen=True)
class Site:
    server: LiveServer
    seeded: Seeded

    @property
    def url(self) -> str:
        return self.server.base_url

    def email(self, key: str) -> str:
        return self.seeded.emails[key]


@pytest.fixture(scope="session")
def site(
    make_database_url: Callable[..., str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    url = make_database_url()
    engine = make_engine(url)
    with Session(engine) as session:
        seeded = seed(session)
        seed_accounts(session, seeded)
        reconcile(session, seeded)
        session.commit()
    engine.dispose()
    with live_server(url, tmp_path_factory.mktemp("browser-data")) as server:
        yield Site(server, seeded)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object, site: Site) -> Iterator[object]:
    context = browser.new_context(  # type: ignore[attr-defined]
        base_url=site.url, viewport={"width": 1200, "height": 900}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("console", lambda message: problems.append(message.text) if (
        message.type == "error" and "Content Security Policy" in message.text) else None)
    yield page
    context.close()
    # Every script and style comes from /static: the policy is never broken by a page.
    assert not problems, problems


@pytest.fixture
def sign_in(page: object, site: Site) -> Callable[[str], object]:
    """Sign in through the real form as one of the seeded people."""

    def go(key: str) -> object:
        page.goto("/login")  # type: ignore[attr-defined]
        page.get_by_label("Email address").fill(site.email(key))  # type: ignore[attr-defined]
        page.get_by_label("Password").fill(PASSWORD)  # type: ignore[attr-defined]
        page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
        page.wait_for_url(lambda u: "/login" not in u)  # type: ignore[attr-defined]
        return page

    return go


def shot(page: object, name: str) -> None:
    """A screenshot for a person to look at, when RINGFENCE_SHOTS names a folder."""
    if not os.environ.get("RINGFENCE_SHOTS"):
        return
    folder = Path(os.environ["RINGFENCE_SHOTS"])
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def own_site(
    make_database_url: Callable[..., str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, Seeded]]:
    """A server of the test module's own on the browser seed, for journeys that change
    what other modules would see."""
    url = make_database_url()
    engine = make_engine(url)
    with Session(engine) as session:
        seeded = seed(session)
        seed_accounts(session, seeded)
        reconcile(session, seeded)
        session.commit()
    engine.dispose()
    with live_server(url, tmp_path_factory.mktemp("own-site-data")) as server:
        yield server, seeded


@pytest.fixture
def open_as(browser: Any, own_site: tuple[LiveServer, Seeded]) -> Iterator[Callable[[str], Any]]:
    """A fresh browser signed in as one of the seeded people (each in their own context)."""
    server, seeded = own_site
    contexts: list[Any] = []

    def open_page(key: str) -> Any:
        context = browser.new_context(base_url=server.base_url,
                                      viewport={"width": 1200, "height": 900})
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Email address").fill(seeded.emails[key])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda u: "/login" not in u)
        return page

    yield open_page
    for context in contexts:
        context.close()
