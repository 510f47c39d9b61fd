"""Loading the NQSW a page is about.

Whether the person may see them is settled before the handler runs, by the page guard
and its table (app/auth/page_access.py): every page that names an NQSW in its path has a
rule checking that NQSW against the person's reach, with the API's own code. What is
left here is loading the record, and saying whose it is in the page's title.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app.errors import NotFound
from app.models import Staff
from app.repositories import staff as staff_repository
from app.web.viewer import Viewer


def nqsw_for(session: Session, staff_id: int) -> Staff:
    """The NQSW named in the page's path (already checked to be within reach)."""
    staff = staff_repository.person(session, staff_id)
    if staff is None:
        raise NotFound("NQSW", staff_id)
    return staff


def whose(viewer: Viewer, nqsw: Staff, staff_id: int, yours: str, theirs: str, *,
          own_nav: str = "nqsw") -> dict[str, Any]:
    """The title, heading and menu item of a page about one NQSW: said to the NQSW
    ("Your protected time", under their own menu item) or about them to someone else
    ("Protected time: Sam Lee", under the NQSWs list)."""
    own = viewer.staff_id == staff_id
    return {
        "title": yours if own else f"{theirs}: {nqsw.name}",
        "heading": yours if own else theirs,
        "nav_key": own_nav if own else "nqsws",
        "own": own,
        "nqsw": nqsw,
    }
