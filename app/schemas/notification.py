"""Notifications and notification preferences as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, computed_field

from app.schemas.common import Page, PublicRecord, RecordId, RequestBody


class NotificationPublic(PublicRecord):
    kind: str
    subject: str
    body_text: str
    body_html: str | None
    context: dict[str, Any]
    breach_id: RecordId | None
    nqsw_id: RecordId | None
    delivery: str
    created_at: datetime
    read_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def read(self) -> bool:
        return self.read_at is not None


class InboxPage(Page[NotificationPublic]):
    """A page of the inbox, with the unread total for the badge whatever the filter."""

    unread: int


class ReadAllResult(BaseModel):
    marked: int


class NotificationPreferencePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    digest: bool


class NotificationPreferenceUpdate(RequestBody):
    """`digest: true` for one email a day listing the day's notifications."""

    digest: bool
