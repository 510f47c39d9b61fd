"""Who could take this case? Every worker of the team side by side, best first."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
