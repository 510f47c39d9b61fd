"""How a page submits a change: one path from the form to the service and back.

Every page form that changes something goes the same way: parse what was typed into the
model the service takes; a bad answer re-renders the page (422) with the GOV.UK error
summary and the message beside the field, keeping what was typed; otherwise the service
is called, and a refusal re-renders the page the same way with the service's reason (and
its status: 409 for a conflict, 403, 404...), while success redirects (303, or
HX-Redirect for htmx) to a page saying what was done.

A refused change leaves nothing written. The service call runs inside a savepoint
(`session.begin_nested()`): leaving the `with` block by an exception discards the
savepoint, and everything the service flushed before it refused goes with it, while
the request's own transaction carries on, so the page is re-rendered from the database
as it was before the attempt, in the same session, and the session dependency
(app.db.get_session) commits the request once as for any other. The other way, raising
out of the route so that the dependency rolls the whole request back, would leave the
page to be drawn by an exception handler after the request's session has closed: a
second session, and the page's viewer, date and policies carried to it by hand. A
savepoint keeps one request, one session, one transaction, and no page ends a
transaction itself (tests/unit/test_layers.py holds them to that).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlmodel import Session

from app.errors import DomainError
from app.web.forms import FormErrors, domain_errors, parse_form
from app.web.htmx import redirect

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


async def answers(request: Request) -> dict[str, Any]:
    """What the person typed, without the CSRF token (checked before any handler runs)."""
    return {k: v for k, v in (await request.form()).items() if k != "csrf_token"}


class NoAnswers(BaseModel):
    """A button with nothing to fill in (time taken, approving a sign-off)."""


@dataclass(frozen=True)
class Questions(Generic[M]):
    """A page's form and the model the service takes.

    `wanted` turns the page's answers into the model's input (default: as typed), for
    forms that ask fewer or differently named questions than the service has fields.
    `rename` puts a message about a model's (or the service's) field beside the question
    that asks it; `messages` replaces a question's message by the page's own words, and
    `required` names questions the model has a default for but the form asks anyway.
    """

    model: type[M]
    labels: Mapping[str, str] = field(default_factory=dict)
    chosen: Collection[str] = ()
    wanted: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    rename: Mapping[str, str] = field(default_factory=dict)
    messages: Mapping[str, str] = field(default_factory=dict)
    required: Mapping[str, str] = field(default_factory=dict)

    def parse(self, values: dict[str, Any]) -> tuple[M | None, FormErrors]:
        """The model, or a message beside each question answered badly."""
        wanted = self.wanted(values) if self.wanted else values
        form, found = parse_form(self.model, wanted, self.labels, chosen=self.chosen)
        errors = FormErrors()
        for name, message in found.summary():
            shown = self.rename.get(name, name)
            errors.add(shown, self.messages.get(shown, message))
        for name, message in self.required.items():
            if not str(values.get(name, "")).strip():
                form = None
                errors.add(name, message)
        return form, errors


@dataclass
class Refusal:
    """What a page needs to show a refused submission: what was typed, why it was
    refused, the status to answer with, and anything else the page shows with it."""

    values: dict[str, Any]
    errors: FormErrors
    status_code: int = 422
    shown: dict[str, Any] = field(default_factory=dict)


def again(
    draw: Callable[..., Response], *args: Any, errors_as: str = "errors", **kwargs: Any,
) -> Callable[[Refusal], Response]:
    """The page `draw(*args, **kwargs)` drawn again for a refused submission: with what
    was typed, why it was refused and the refusal's status.

    `errors_as` names the keyword the reasons go to, for a page with more than one form,
    each showing its own form's reasons.
    """

    def page(refused: Refusal) -> Response:
        return draw(*args, **kwargs, values=refused.values, **{errors_as: refused.errors},
                    status_code=refused.status_code)

    return page


class Refused(Exception):
    """A page's own refusal, found while submitting (a case out of reach, a reason the
    policy asks for): shown like a service's, and like one it leaves nothing written."""

    def __init__(self, errors: FormErrors, status_code: int = 422, **shown: Any) -> None:
        super().__init__(errors.summary())
        self.errors = errors
        self.status_code = status_code
        self.shown = shown


async def submit(
    request: Request,
    session: Session,
    questions: Questions[M],
    *,
    act: Callable[[M], T],
    done: Callable[[T], str],
    page: Callable[[Refusal], Response],
    refusal: Callable[[DomainError], FormErrors] | None = None,
) -> Response:
    """Parse, act, and redirect to `done(outcome)`; or re-render `page` with the reason.

    `act` calls the service with the parsed form; `refusal` turns a service's refusal
    into messages beside the form's questions (by default, beside the question `rename`
    names for the field the service names).
    """
    values = await answers(request)
    form, errors = questions.parse(values)
    if form is None:
        return page(Refusal(values, errors))
    try:
        with session.begin_nested():
            outcome = act(form)
    except Refused as exc:
        return page(Refusal(values, exc.errors, exc.status_code, exc.shown))
    except DomainError as exc:
        found = refusal(exc) if refusal else domain_errors(exc, rename=questions.rename)
        return page(Refusal(values, found, exc.status_code))
    return redirect(request, done(outcome))
