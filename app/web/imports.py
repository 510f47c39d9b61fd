"""Uploading a case-management export: preview, then apply.

The ASYE coordinator imports for the whole organisation, a team manager for the team
they manage (rows of other teams are listed as problems). Uploading previews the file in
the background, the page polling the run for the rows read so far, then showing the
preview: every bad row by row, column and reason, what would be created, updated and
closed, and what the import does to each NQSW under the policies, in the engine's words.
Nothing changes until the person chooses to import what they previewed; the import too
runs in the background, the page showing the rows imported so far, then the result.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import UploadFile

from app.clock import today
from app.db import SessionDep
from app.errors import DomainError
from app.imports.plan import Scope
from app.models.imports import ImportKind, ImportStatus
from app.services import imports
from app.settings import Settings
from app.web import htmx
from app.web.deps import PoliciesDep, ViewerDep
from app.web.forms import DateAnswer, FormErrors, date_message, with_dates
from app.web.templating import render
from app.web.viewer import Viewer

router = APIRouter()

KINDS = [(ImportKind.staff.value, "Staff"), (ImportKind.cases.value, "Cases"),
         (ImportKind.allocations.value, "Allocations (who holds or co-works which case)")]
CHUNK = 1024 * 1024
# The form's other fields and the multipart framing, beside the file itself.
FORM_ROOM = 64 * 1024
# A run still under way: its page polls it for the rows done.
WORKING = {ImportStatus.running.value, imports.APPLYING}


def _too_big(settings: Settings) -> str:
    return f"The file must be smaller than {settings.max_upload_bytes // (1024 * 1024)} MB"


def _scope(session: Session, viewer: Viewer) -> Scope:
    return imports.scope_for(session, role=viewer.role, staff_id=viewer.staff_id,
                             everyone=False)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _form_page(request: Request, session: Session, viewer: Viewer, *,
               values: dict[str, Any] | None = None, errors: FormErrors | None = None,
               status_code: int = 200) -> Response:
    settings = _settings(request)
    return render(request, "pages/imports.html", {
        "title": "Import from your case-management system",
        "nav_key": "imports",
        "kinds": KINDS,
        "profiles": imports.profile_choices(settings),
        "runs": imports.list_runs(session, _scope(session, viewer)),
        "team_only": viewer.role == "team_manager",
        "values": {"kind": ImportKind.allocations.value, "on": today().isoformat(),
                   **(values or {})},
        "errors": errors or FormErrors(),
        "limit_mib": settings.max_upload_bytes // (1024 * 1024),
    }, status_code=status_code)


@router.get("/imports", include_in_schema=False)
def import_form(request: Request, session: SessionDep, viewer: ViewerDep) -> Response:
    return _form_page(request, session, viewer)


async def _read_upload(upload: Any, limit: int) -> bytes | None:
    """The uploaded bytes, or None once they pass the limit (read a chunk at a time)."""
    if not isinstance(upload, UploadFile):
        return b""
    chunks: list[bytes] = []
    size = 0
    while chunk := await upload.read(CHUNK):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/imports", include_in_schema=False)
async def upload(request: Request, session: SessionDep, viewer: ViewerDep,
                 policies: PoliciesDep) -> Response:
    """Preview the uploaded export; the result page offers to import it."""
    settings = _settings(request)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.max_upload_bytes + FORM_ROOM:
        # Refused from its declared length, before the body is read or spooled to disk.
        errors = FormErrors()
        errors.add("file", _too_big(settings))
        return _form_page(request, session, viewer, errors=errors, status_code=413)
    async with request.form() as form:
        return await _preview(request, session, viewer, policies, settings, form)


async def _preview(request: Request, session: Session, viewer: Viewer, policies: Any,
                   settings: Settings, form: Any) -> Response:
    """The upload's answers checked, and its preview started (the form is open for it)."""
    answers = with_dates({k: v for k, v in form.items() if isinstance(v, str)})
    values: dict[str, Any] = {k: answers.get(k) or "" for k in
                              ("kind", "profile", "on", "close_missing")}
    errors = FormErrors()
    data = await _read_upload(form.get("file"), settings.max_upload_bytes)
    upload_file = form.get("file")
    name = upload_file.filename if isinstance(upload_file, UploadFile) else ""
    if data is None:
        errors.add("file", _too_big(settings))
    elif not data or not name:
        errors.add("file", "Choose the export file")
    if values["kind"] not in {k for k, _ in KINDS}:
        errors.add("kind", "Choose what the file holds")
    if not values["profile"]:
        errors.add("profile", "Choose the profile that maps your export")
    on = today()
    answer = values["on"]
    problem = date_message(answer, "Date of the export") if isinstance(answer, DateAnswer) \
        else None
    if problem:
        errors.add("on", problem)
    elif answer:
        on = date.fromisoformat(str(answer))
    if not errors:
        try:
            run_id = imports.start_preview(
                session, engine=request.app.state.engine, settings=settings,
                policies=policies, kind=str(values["kind"]), profile=str(values["profile"]),
                file_name=name or "upload.csv", data=data or b"", on=on,
                close_missing=values["close_missing"] == "yes", actor_id=viewer.staff_id,
                scope=_scope(session, viewer))
        except DomainError as exc:
            errors.add(exc.loc[-1] if len(exc.loc) > 1 else "file", exc.message)
        else:
            return htmx.redirect(request, f"/imports/{run_id}")
    return _form_page(request, session, viewer, values=values, errors=errors,
                      status_code=422)


@router.get("/imports/{run_id}", include_in_schema=False)
def import_result(run_id: int, request: Request, session: SessionDep,
                  viewer: ViewerDep) -> Response:
    run = imports.get_run(session, run_id, _scope(session, viewer))
    report = run.report or {}
    if htmx.is_htmx(request) and run.status not in WORKING:
        # The preview or import the page was waiting for is done: show it whole.
        return Response(status_code=200, headers={"HX-Refresh": "true"})
    return render(request, "pages/import_run.html", {
        "title": f"Import of {run.file_name}",
        "nav_key": "imports",
        "run": run,
        "report": report,
        "kind_label": dict(KINDS).get(run.kind, run.kind),
    }, block="progress")


@router.post("/imports/{run_id}/apply", include_in_schema=False)
def apply_import(run_id: int, request: Request, session: SessionDep, viewer: ViewerDep,
                 policies: PoliciesDep) -> Response:
    """Import what was previewed, in the background: the new run's page shows the rows
    imported so far, then says what changed (or why nothing did)."""
    applying = imports.start_apply(session, engine=request.app.state.engine,
                                   settings=_settings(request), policies=policies,
                                   run_id=run_id, actor_id=viewer.staff_id,
                                   scope=_scope(session, viewer))
    return htmx.redirect(request, f"/imports/{applying}")
