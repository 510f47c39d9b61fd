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


MANAGER_ROLES = frozenset({"team_manager", "senior_manager"})
OVERSIGHT_ROLES = frozenset({"senior_manager", "asye_coordinator"})


@dataclass(frozen=True)
class Viewer:
    """The signed-in person as pages see them."""

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
        return self.role in MANAGER_ROLES

    @property
    def can_override(self) -> bool:
        """Who a policy lets overrule a block by default: a senior manager."""
        return self.role == "senior_manager"

    @property
    def sees_dashboard(self) -> bool:
        return self.role in {"team_manager", "senior_manager", "asye_coordinator"}

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
        if self.role not in ("nqsw", "admin"):
            items.append(NavItem("NQSWs", "/nqsws", "nqsws"))
        if self.can_allocate:
            items.append(NavItem("Allocate a case", "/allocate", "allocate"))
        if self.sees_dashboard:
            items.append(NavItem("Breaches", "/breaches", "breaches"))
        items.append(NavItem("What we promise", "/promise", "promise"))
        items.append(NavItem("Notifications", "/notifications", "notifications"))
        return items
