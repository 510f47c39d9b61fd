"""What a page says after a change: the redirect after a successful form names what was
done and its date in the query (`?done=booked&day=2026-11-23`), and the page it lands on
reads them back to say so. One reading and one writing, so that every page treats an
unknown or mistyped value the same way (ignored, never shown).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from urllib.parse import urlencode

from fastapi import Request


def done_message(request: Request, known: Collection[str]) -> tuple[str | None, date | None]:
    """What the last action did and its date, from the redirect's query; a value not in
    `known`, or a date that is not one, is ignored."""
    done = request.query_params.get("done")
    try:
        day = date.fromisoformat(request.query_params.get("day", ""))
    except ValueError:
        day = None
    return (done if done in known else None), day


def done_url(page: str, done: str, day: date, **more: object) -> str:
    """`page` with what was done and its date (and anything else the page says)."""
    return f"{page}?" + urlencode({"done": done, "day": day.isoformat(), **more})
