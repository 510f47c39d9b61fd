"""What htmx tells the server, and how the server tells htmx to go elsewhere."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response


def is_htmx(request: Request) -> bool:
    """An htmx request that will swap part of the page (not a boosted full navigation)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def redirect(request: Request, url: str, *, status_code: int = 303) -> Response:
    """Send the browser to `url`: HX-Redirect for htmx (a full navigation), 303 otherwise.

    A plain 303 inside an htmx request would be followed by the XHR and its page swapped
    into a fragment target, which is never what we want.
    """
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=status_code)
