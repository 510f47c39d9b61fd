"""The service's notion of "today": a local date in the organisation's time zone.

Only services and routes call this, to default an omitted `on=` date; the engine
never does, which is what keeps evaluation reproducible.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.settings import get_settings


def now_utc() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return datetime.now(get_settings().tz).date()
