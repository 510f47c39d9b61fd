"""The exports page: breach register, workload snapshot and compliance by team."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
