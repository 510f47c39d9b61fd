"""The bridge from the account session (app.auth) to the person pages are rendered for."""

from __future__ import annotations

from fastapi import Request
from sqlmodel import Session

from app.web.viewer import Viewer


def viewer_from_session(request: Request, session: Session) -> Viewer | None:
    """The signed-in person, or None. Waits on app.auth's page sessions."""
    return None


def csrf_token_for(request: Request) -> str:
    return ""
