"""Override requests on pages: ask, see, approve or refuse."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
