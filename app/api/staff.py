"""Placeholder: the foundation-API owner replaces this module."""

from fastapi import APIRouter

router = APIRouter(tags=["staff"])
