"""Individual adjustments on pages: a team manager proposes, the named role approves."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
