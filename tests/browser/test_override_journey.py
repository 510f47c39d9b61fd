"""A team manager blocked by a firm limit asks for an override; the senior manager sees
the request filled in, approves it with their own reason, and the case is allocated.

The NQSW and the case are this test's own (added to the shared browser organisation), so
the other browser tests' NQSWs keep the breaches they are written against.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from app.clock import today
from app.db import make_engine
from app.models import Allocation, Case, Enrolment, Staff
from tests.browser.conftest import Site, shot

pytestmark = pytest.mark.browser

ASKING = "Her sibling's case is already hers: the children should keep one worker"
APPROVING = "Agreed: keeping the siblings together matters more than the cap this month"


def an_nqsw_at_the_cap(site: Site) -> tuple[int, str]:
    """A new NQSW in the manager's team in their first month, holding the first stage's
    five cases, and a sixth case of the team waiting: (their id, that case's reference)."""
    engine = make_engine(site.server.database_url)
    start = today() - timedelta(days=20)
    with Session(engine) as session:
        manager = session.get(Staff, site.seeded.ids["manager"])
        assert manager is not None
        mia = Staff(name="Mia Okoro", email="mia@example.org", role="nqsw",
                    team_id=manager.team_id, start_date=start)
        session.add(mia)
        session.flush()
        session.add(Enrolment(staff_id=mia.id, programme="asye", start_date=start,  # type: ignore[arg-type]
                              assessor_id=manager.id))
        for number in range(6):
            case = Case(reference=f"C-MIA-{number}", category="early_help", complexity=1,
                        team_id=manager.team_id, opened_on=start)
            session.add(case)
            session.flush()
            if number < 5:
                session.add(Allocation(case_id=case.id, worker_id=mia.id,  # type: ignore[arg-type]
                                       role="holder", start_date=start))
        session.commit()
        assert mia.id is not None
        mia_id = mia.id
    engine.dispose()
    return mia_id, "C-MIA-5"


def test_a_blocked_manager_asks_and_the_senior_manager_approves(
    page: Any, sign_in: Callable[[str], Any], site: Site
) -> None:
    mia, spare = an_nqsw_at_the_cap(site)
    sign_in("manager")
    page.goto("/allocate")
    page.get_by_label("Case reference").fill(spare)
    page.get_by_label("Worker", exact=True).select_option(label="Mia Okoro")
    verdict = page.locator("#whatif-result")
    expect(verdict).to_have_attribute("data-outcome", "block")
    page.locator("#ask-override").click()

    # The request form, with why it is refused and who decides.
    expect(page.get_by_role("heading", level=1)).to_have_text("Ask for an override")
    expect(page.locator("#request-summary")).to_contain_text(spare)
    expect(page.locator("#request-summary")).to_contain_text("A senior manager")
    expect(page.locator("#blocked-by")).to_contain_text("cap of 5")
    shot(page, "override-request-new")
    reason = page.get_by_label("Why the limit should be set aside for this case")
    reason.fill("Siblings")
    page.get_by_role("button", name="Ask for an override").click()
    expect(page.locator("#reason-error")).to_contain_text("at least 20 characters")
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    page.get_by_label("Why the limit should be set aside for this case").fill(ASKING)
    page.get_by_role("button", name="Ask for an override").click()
    expect(page.locator("#done-message")).to_contain_text("Override asked for")
    expect(page.locator("#request-status")).to_have_text("Pending")
    expect(page.get_by_role("button", name="Approve and allocate")).to_have_count(0)
    shot(page, "override-request-asked")

    # The senior manager is told, and finds the request filled in.
    page.context.clear_cookies()
    sign_in("senior")
    page.goto("/notifications")
    expect(page.locator("main")).to_contain_text(f"Override asked for: case {spare}")
    page.goto("/override-requests")
    expect(page.locator("#pending-requests")).to_contain_text("Mia Okoro")
    shot(page, "override-requests")
    page.get_by_role("link", name=f"Case {spare}").click()
    expect(page.locator("#request-reason")).to_have_text(ASKING)
    expect(page.locator("#blocked-by")).to_contain_text("cap of 5")
    shot(page, "override-request-decide")
    page.get_by_label("Your reason").fill(APPROVING)
    page.get_by_role("button", name="Approve and allocate").click()
    expect(page.locator("#done-message")).to_contain_text("the case is allocated")
    expect(page.locator("#request-status")).to_have_text("Approved")
    expect(page.locator("#decision-reason")).to_have_text(APPROVING)
    shot(page, "override-request-approved")

    # The case is Mia's now.
    page.goto(f"/nqsws/{mia}")
    expect(page.get_by_role("row", name=re.compile(spare))).to_be_visible()
