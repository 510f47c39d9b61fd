"""All tables, imported here so that SQLModel.metadata (and Alembic) sees every one.

One module per aggregate; add a new aggregate's import below.
"""

from app.models.account import Account, ApiToken, LoginAttempt, LoginSession
from app.models.account import RecoveryCode as RecoveryCode
from app.models.audit import AuditEvent
from app.models.breach import Breach, BreachEvent, JobLock
from app.models.case import Allocation, Case
from app.models.diary import CalendarToken, ProtectedTime, ReviewPoint, SupervisionSession
from app.models.enrolment import Adjustment, Enrolment, Pause, SignOff
from app.models.history import CaseTerm, StaffTerm
from app.models.imports import ImportKey, ImportRun  # noqa: F401  (metadata for Alembic)
from app.models.notification import Notification, NotificationPreference, OutboxMessage
from app.models.org import ServiceArea, Team
from app.models.override import OverrideRequest as OverrideRequest
from app.models.staff import Staff

__all__ = [
    "Account",
    "ApiToken",
    "LoginAttempt",
    "LoginSession",
    "Adjustment",
    "Allocation",
    "AuditEvent",
    "Breach",
    "BreachEvent",
    "CalendarToken",
    "Case",
    "CaseTerm",
    "Enrolment",
    "JobLock",
    "Notification",
    "NotificationPreference",
    "OutboxMessage",
    "Pause",
    "ProtectedTime",
    "ReviewPoint",
    "ServiceArea",
    "SignOff",
    "Staff",
    "StaffTerm",
    "SupervisionSession",
    "Team",
]
