"""Loading the NQSW a page is about.

Whether the person may see them is settled before the handler runs, by the page guard
and its table (app/auth/page_access.py): every page that names an NQSW in its path has a
rule checking that NQSW against the person's reach, with the API's own code. What is
left here is loading the record.
"""

from __future__ import annotations

from sqlmodel import Session

from app.errors import NotFound
from app.models import Staff
from app.repositories import staff as staff_repository


def nqsw_for(session: Session, staff_id: int) -> Staff:
    """The NQSW named in the page's path (already checked to be within reach)."""
    staff = staff_repository.person(session, staff_id)
    if staff is None:
        raise NotFound("NQSW", staff_id)
    return staff
