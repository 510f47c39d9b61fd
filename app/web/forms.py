"""Form input for pages: parse into a Pydantic model, or a message beside each bad field.

Pages never show a raw 422: a person gets an error summary at the top and the reason
next to the field, in words ("Enter a date"), and the values they typed are kept.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.errors import DomainError

M = TypeVar("M", bound=BaseModel)


@dataclass
class FormErrors:
    """Messages keyed by form field; `None` key holds a message about the whole form."""

    messages: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.messages.setdefault(name, message)

    def __bool__(self) -> bool:
        return bool(self.messages)

    def get(self, name: str) -> str | None:
        return self.messages.get(name)

    def summary(self) -> list[tuple[str, str]]:
        """(field, message) in form order, for the error summary's links."""
        return list(self.messages.items())


def _message(error: Mapping[str, Any], label: str, *, chosen: bool = False) -> str:
    kind = error.get("type", "")
    if kind == "missing" or (kind == "string_too_short" and error.get("input") in ("", None)):
        return f"{'Select' if chosen else 'Enter'} {label.lower()}"
    if kind.startswith("date") or kind.startswith("datetime"):
        return f"{label} must be a real date, like 2026-11-23"
    if kind.startswith("int") or kind.startswith("float"):
        return f"{label} must be a number"
    if kind in ("enum", "literal_error"):
        return f"Select {label.lower()}"
    ctx = error.get("ctx") or {}
    bounds = {"greater_than": "more than", "greater_than_equal": "at least",
              "less_than": "less than", "less_than_equal": "at most"}
    if kind in bounds and len(ctx) == 1:
        bound = next(iter(ctx.values()))
        shown = f"{bound:g}" if isinstance(bound, float) else bound
        return f"{label} must be {bounds[kind]} {shown}"
    if kind == "string_too_short":
        return f"{label} must be at least {ctx.get('min_length')} characters"
    if kind == "string_too_long":
        return f"{label} must be {ctx.get('max_length')} characters or fewer"
    msg = str(error.get("msg", "is not valid"))
    return msg.removeprefix("Value error, ").rstrip(".")


def parse_form(
    model: type[M], data: Mapping[str, Any], labels: Mapping[str, str] | None = None,
    *, chosen: Collection[str] = (),
) -> tuple[M | None, FormErrors]:
    """Validate `data`; empty strings count as "not given" so optional fields stay optional.

    `chosen` names the fields answered by picking (radios, selects): "Select ..." rather
    than "Enter ..." when they are missing.
    """
    labels = labels or {}
    cleaned = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}
    cleaned = {k: v for k, v in cleaned.items() if v != ""}
    errors = FormErrors()
    try:
        return model.model_validate(cleaned), errors
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error.get("loc") else ""
            label = labels.get(name, name.replace("_", " ").capitalize() or "This form")
            errors.add(name, _message(error, label, chosen=name in chosen))
        return None, errors


ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def as_sentence(message: str) -> str:
    """A service's message as a person reads it: a capital letter, dates in words."""

    def spelled(match: re.Match[str]) -> str:
        try:
            day = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            return match[0]
        return f"{day.day} {day:%B %Y}"

    text = ISO_DATE.sub(spelled, message)
    return text[:1].upper() + text[1:]


def domain_errors(exc: DomainError, *, rename: Mapping[str, str] | None = None) -> FormErrors:
    """A service's refusal as a message beside the field it names."""
    rename = rename or {}
    loc = [str(part) for part in exc.loc if part not in ("body", "query", "path")]
    name = loc[-1] if loc else ""
    errors = FormErrors()
    errors.add(rename.get(name, name), as_sentence(exc.message))
    return errors
