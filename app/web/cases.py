"""Cases and their allocations on pages: create, close, re-categorise, end, reassign."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
