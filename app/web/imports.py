"""Uploading a case-management export: preview, then apply."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
