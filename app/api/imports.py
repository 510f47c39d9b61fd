"""Imports of staff, cases and allocations from a case-management system's export.

Upload a file to preview it (nothing changes but the record of the run); apply the
preview to import it. The ASYE coordinator imports for the organisation, a team manager
for their own team (rows of other teams are errors in the preview).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile, status
from sqlmodel import Session

from app.api.boundary import BoundaryRoute
from app.api.deps import OnDep, PoliciesDep, SettingsDep
from app.auth import PrincipalDep
from app.auth.principal import Principal
from app.db import SessionDep
from app.imports.plan import Scope
from app.schemas.common import Page, PathId
from app.schemas.imports import ImportRunPublic
from app.services import imports

router = APIRouter(route_class=BoundaryRoute, tags=["imports"])


def _scope(session: Session, principal: Principal) -> Scope:
    return imports.scope_for(session, role=principal.role, staff_id=principal.staff_id,
                             everyone=principal.is_global_reader)


def _run(session: Session, run_id: int | None, scope: Scope) -> ImportRunPublic:
    assert run_id is not None
    return ImportRunPublic.model_validate(imports.get_run(session, run_id, scope))


@router.post(
    "/imports",
    status_code=status.HTTP_201_CREATED,
    responses={403: {"description": "Not the ASYE coordinator or a team manager with a "
                                    "team."}},
)
def upload_import(
    session: SessionDep,
    settings: SettingsDep,
    policies: PoliciesDep,
    principal: PrincipalDep,
    on: OnDep,
    kind: Annotated[Literal["staff", "cases", "allocations"], Form()],
    profile: Annotated[str, Form(min_length=1, max_length=100)],
    file: Annotated[UploadFile, File(description="The CSV or XLSX export.")],
    close_missing: Annotated[bool, Form()] = False,
) -> ImportRunPublic:
    """Upload an export and preview it as of `on`: every bad row (row, column, reason),
    what would be created, updated and closed, and what that does to each NQSW under the
    policies. Nothing changes but the record of the run; apply it to import."""
    scope = _scope(session, principal)
    data = file.file.read(settings.max_upload_bytes + 1)
    report = imports.preview(
        session, settings=settings, policies=policies, kind=kind, profile=profile,
        file_name=file.filename or "upload.csv", data=data, on=on,
        close_missing=close_missing, actor_id=principal.staff_id, scope=scope)
    return _run(session, report.run_id, scope)


@router.post(
    "/imports/{run_id}/apply",
    responses={409: {"description": "Not a preview without problems, already applied, or "
                                    "the file is gone: upload it again."}},
)
def apply_import(
    run_id: PathId,
    session: SessionDep,
    settings: SettingsDep,
    policies: PoliciesDep,
    principal: PrincipalDep,
) -> ImportRunPublic:
    """Import a previewed file, as previewed, in one transaction: the records, then one
    reconciliation per NQSW it touched, and a summary to the coordinator and managers."""
    scope = _scope(session, principal)
    report = imports.apply(session, settings=settings, policies=policies, run_id=run_id,
                           actor_id=principal.staff_id, scope=scope)
    return _run(session, report.run_id, scope)


@router.get("/imports")
def list_imports(session: SessionDep, principal: PrincipalDep) -> Page[ImportRunPublic]:
    """The latest import runs (a team manager: their team's)."""
    runs = imports.list_runs(session, _scope(session, principal))
    return Page(data=[ImportRunPublic.model_validate(r) for r in runs], count=len(runs))


@router.get("/imports/{run_id}")
def get_import(run_id: PathId, session: SessionDep,
               principal: PrincipalDep) -> ImportRunPublic:
    """One import run, with its report and progress (rows done of rows in the file)."""
    return _run(session, run_id, _scope(session, principal))
