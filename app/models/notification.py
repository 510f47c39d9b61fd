"""Notifications: the in-app inbox row first, then the email that delivers it.

A notification is written in the same transaction as the change that caused it, so it
exists exactly when the change does. Email goes through an outbox that a separate
delivery run empties, so an SMTP outage never fails the change and never loses a message.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, created_at_field, utcnow


class Delivery(StrEnum):
    """How a notification reaches its recipient's mailbox, decided when it is written."""

    email = "email"  # one email per notification, through the outbox
    digest = "digest"  # listed in the recipient's daily digest email
    none = "none"  # in-app only (the recipient has no email address)


class OutboxStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"  # gave up after the maximum attempts; kept, and can be re-queued


class Notification(SQLModel, table=True):
    """One message to one person, shown in their inbox until they mark it read."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_recipient_created", "recipient_id", "created_at"),
        Index("ix_notification_digest_pending", "delivery", "digest_outbox_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    recipient_id: int = Field(foreign_key="staff.id")
    kind: str = Field(max_length=60, index=True)
    subject: str = Field(max_length=300)
    body_text: str = Field(sa_column=Column(Text, nullable=False))
    body_html: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    context: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The breach table belongs to the breach aggregate; the id is kept as a plain reference
    # so that notifications can be written for any breach without coupling the schemas.
    breach_id: int | None = Field(default=None, index=True)
    nqsw_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    delivery: str = Field(default=Delivery.email, max_length=20)
    # The digest email that listed this notification (outbox_message.id); a plain id, as the
    # outbox already refers back to notifications and a cycle of keys helps no one.
    digest_outbox_id: int | None = None
    created_at: datetime = created_at_field()
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutboxMessage(SQLModel, table=True):
    """An email waiting to be sent (or sent, or given up on). Never deleted."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_message_due", "status", "next_attempt_at"),
        # One digest per person per day, however often the digest job runs.
        UniqueConstraint("recipient_id", "digest_day", name="uq_outbox_message_digest"),
    )

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int | None = Field(default=None, foreign_key="notification.id", index=True)
    recipient_id: int | None = Field(default=None, foreign_key="staff.id")
    digest_day: date | None = None
    to_address: str = Field(max_length=320)
    subject: str = Field(max_length=300)
    text: str = Field(sa_column=Column(Text, nullable=False))
    html: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    status: str = Field(default=OutboxStatus.pending, max_length=20)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = created_at_field()


class NotificationPreference(SQLModel, table=True):
    """A person's choice of one email per event (the default) or one digest a day."""

    __tablename__ = "notification_preference"

    staff_id: int = Field(foreign_key="staff.id", primary_key=True)
    digest: bool = Field(default=False)
    updated_at: datetime = created_at_field()
