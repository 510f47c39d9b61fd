"""All tables, imported here so that SQLModel.metadata (and Alembic) sees every one.

One module per aggregate; add a new aggregate's import below.
"""

from app.models.audit import AuditEvent
from app.models.case import Allocation, Case
from app.models.enrolment import Adjustment, Enrolment, Pause, SignOff
from app.models.org import ServiceArea, Team
from app.models.staff import Staff

__all__ = [
    "Adjustment",
    "Allocation",
    "AuditEvent",
    "Case",
    "Enrolment",
    "Pause",
    "ServiceArea",
    "SignOff",
    "Staff",
    "Team",
]
