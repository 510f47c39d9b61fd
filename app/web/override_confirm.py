"""The confirmation an override made on the allocation page asks for before it is written.

Setting a firm limit aside is not one click away from the allocation form: the page says
what the override will allow (the case, the worker, the role, the start date and the
reason given) and which limits will be recorded as overridden breaches, in the engine's
own words and figures, and only "Confirm override" (posted to `/allocate/override`, in
app/web/override_requests.py) writes the allocation.

Apart from the allocation page's own module so that either page can draw it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response

from app.web.templating import render

ROLE_WORDS = {"holder": "Case holder", "co_worker": "Co-worker"}


def override_page(
    request: Request, template: str, title: str, *, nav_key: str, status_code: int = 200,
    **context: Any,
) -> Response:
    """One of the override pages: its title, the navigation item it sits under, the words
    for the roles on a case, and what it shows."""
    return render(request, template, {"title": title, "nav_key": nav_key,
                                      "role_words": ROLE_WORDS, **context},
                  status_code=status_code)


def confirm_page(
    request: Request, form: Any, case: Any, result: dict[str, Any], *, status_code: int = 200,
) -> Response:
    """`form`: the allocation form as parsed (case reference, worker, role, start date,
    reason); `result`: the allocation page's verdict on it (`allocate.whatif`)."""
    back = "/allocate?" + urlencode({"worker_id": form.worker_id,
                                     "case_reference": form.case_reference})
    return override_page(request, "pages/override_confirm.html", "Confirm the override",
                         nav_key="allocate", status_code=status_code, form=form, case=case,
                         result=result, back=back)
