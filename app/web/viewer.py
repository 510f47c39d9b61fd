"""Who is looking at a page, and what their role lets them reach from the navigation.

The account and session belong to `app.auth`; a page only needs the person behind it:
their staff record, role, and the teams and service areas they answer for.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    key: str


@dataclass(frozen=True)
class Viewer:
    """The signed-in person as pages see them. What the navigation offers is read from the
    page access table (app/auth/page_access.py), through app.web.permits."""

    staff_id: int | None
    name: str
    role: str
    email: str = ""
    team_id: int | None = None
    managed_team_ids: tuple[int, ...] = ()
    service_area_ids: tuple[int, ...] = ()
    account_id: int | None = None
    extra: dict[str, object] = field(default_factory=dict, compare=False)

    @property
    def is_nqsw(self) -> bool:
        return self.role == "nqsw"

    @property
    def can_allocate(self) -> bool:
        """The allocation page is open to this role (the page access table says who)."""
        from app.web.permits import ALLOCATE, role_may

        return role_may(self.role, ALLOCATE)

    @property
    def can_override(self) -> bool:
        """Who a policy lets overrule a block by default: a senior manager."""
        return self.role == "senior_manager"

    @property
    def can_enrol(self) -> bool:
        """The enrolment form is open to this role (the page access table says who)."""
        from app.web.permits import ENROL, role_may

        return role_may(self.role, ENROL)

    @property
    def sees_dashboard(self) -> bool:
        from app.web.permits import DASHBOARD, role_may

        return role_may(self.role, DASHBOARD)

    @property
    def sees_nqsw_list(self) -> bool:
        """An NQSW has their own pages instead (the list would only send them there)."""
        from app.web.permits import NQSW_LIST, role_may

        return self.role != "nqsw" and role_may(self.role, NQSW_LIST)

    def navigation(self) -> list[NavItem]:
        """The service navigation for this role, in the order people use it."""
        items: list[NavItem] = []
        if self.role == "nqsw" and self.staff_id is not None:
            items += [
                NavItem("My programme", f"/nqsws/{self.staff_id}", "nqsw"),
                NavItem("My protected time", f"/nqsws/{self.staff_id}/diary", "diary"),
            ]
        else:
            label = "My team" if self.role in ("team_manager", "advanced_practitioner") else "Home"
            items.append(NavItem(label, "/", "home"))
        if self.sees_nqsw_list:
            items.append(NavItem("NQSWs", "/nqsws", "nqsws"))
        if self.can_allocate:
            items.append(NavItem("Allocate a case", "/allocate", "allocate"))
        if self.sees_dashboard:
            items.append(NavItem("Breaches", "/breaches", "breaches"))
        items += [NavItem(label, href, key) for label, href, key in self.work_pages()]
        items.append(NavItem("What we promise", "/promise", "promise"))
        items.append(NavItem("Notifications", "/notifications", "notifications"))
        return items

    def work_pages(self) -> list[tuple[str, str, str]]:
        """The pages for the casework and reporting jobs this role may do, in the order of
        the day: cases, override requests, then the imports and exports that feed and
        report the service. Each is offered only where the page table lets the role in."""
        from app.web.permits import role_may

        pages = [("Cases", "/cases", "cases"),
                 ("Override requests", "/override-requests", "override_requests"),
                 ("Imports", "/imports", "imports"),
                 ("Exports", "/exports", "exports")]
        return [page for page in pages if role_may(self.role, f"GET {page[1]}")]

