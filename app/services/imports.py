"""Imports through the API and the upload page: upload and preview, then apply.

The uploaded file is kept under the data directory by its SHA-256, so the preview a
person read and the import they then apply are of the very same bytes (the hash is
checked again before applying). The ASYE coordinator imports for the whole
organisation; a team manager for the team they manage, and rows of other teams are
errors in the preview.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from app.errors import Conflict, DomainError, Forbidden, NotFound
from app.imports.apply import ImportReport, run_import
from app.imports.plan import Scope
from app.imports.profiles import (
    Profile,
    ProfileError,
    find_profile,
    load_profile,
    profile_paths,
)
from app.jobs import imports as jobs
from app.models.imports import ImportKind, ImportRun, ImportStatus
from app.policy.registry import PolicySet
from app.policy.vocabulary import Role
from app.repositories import imports as repo
from app.repositories import org as org_repo
from app.services.cases import known_categories
from app.settings import Settings

UPLOAD_SUFFIXES = (".csv", ".xlsx", ".txt")
# A run whose import is under way in the background.
APPLYING = jobs.APPLYING


def profiles_dir(settings: Settings) -> Path:
    """Where the organisation keeps its own mapping profiles."""
    return settings.data_dir / "import-profiles"


def profile_choices(settings: Settings) -> list[tuple[str, str]]:
    """(name, what it is for) of every profile; a broken one shows its name only (it is
    refused, with its file and line, when chosen)."""
    choices: list[tuple[str, str]] = []
    for name, path in sorted(profile_paths(profiles_dir(settings)).items()):
        try:
            choices.append((name, f"{load_profile(path).title} ({name})"))
        except ProfileError:
            choices.append((name, name))
    return choices


def scope_for(session: Session, *, role: str | None, staff_id: int | None,
              everyone: bool) -> Scope:
    """The whole organisation for the coordinator; the managed team for a team manager."""
    if everyone or role == Role.asye_coordinator.value:
        return Scope()
    if role == Role.team_manager.value and staff_id is not None:
        teams = org_repo.managed_team_ids(session, staff_id)
        if teams:
            return Scope(team_id=teams[0])
    raise Forbidden("Only the ASYE coordinator and a team manager with a team may import.")


def _stored(settings: Settings, sha256: str) -> Path:
    return profiles_dir(settings).parent / "imports" / sha256


def keep_upload(settings: Settings, data: bytes) -> tuple[Path, str]:
    """Write the uploaded bytes where the apply step will find them, named by their hash."""
    sha256 = hashlib.sha256(data).hexdigest()
    path = _stored(settings, sha256)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(data)
    return path, sha256


def _checked_upload(settings: Settings, policies: PolicySet, *, kind: str, profile: str,
                    file_name: str, data: bytes) -> tuple[ImportKind, Profile, Path, str]:
    """The upload's kind, profile, kept file and hash, or the field to fix."""
    wanted = _kind(kind)
    if not file_name.lower().endswith(UPLOAD_SUFFIXES):
        raise DomainError("Choose a CSV or XLSX file.", field="file")
    if len(data) > settings.max_upload_bytes:
        raise DomainError(f"The file is over the upload limit of "
                          f"{settings.max_upload_bytes:,} bytes.", field="file")
    mapping = _profile(settings, policies, profile)
    path, sha256 = keep_upload(settings, data)
    return wanted, mapping, path, sha256


def preview(session: Session, *, settings: Settings, policies: PolicySet, kind: str,
            profile: str, file_name: str, data: bytes, on: date, close_missing: bool,
            actor_id: int | None, scope: Scope) -> ImportReport:
    """Check the upload and say what importing it would do; nothing but the run is kept."""
    wanted, mapping, path, _ = _checked_upload(settings, policies, kind=kind,
                                               profile=profile, file_name=file_name,
                                               data=data)
    return run_import(session, kind=wanted, path=path, file_name=file_name, profile=mapping,
                      policies=policies, as_of=on, max_bytes=settings.max_upload_bytes,
                      close_missing=close_missing, dry_run=True, actor_id=actor_id,
                      scope=scope)


def start_preview(session: Session, *, engine: Engine, settings: Settings,
                  policies: PolicySet, kind: str, profile: str, file_name: str, data: bytes,
                  on: date, close_missing: bool, actor_id: int | None, scope: Scope) -> int:
    """Record the upload as a running import and preview it in the background (the upload
    page polls the run for the rows read); the run's id."""
    wanted, mapping, path, sha256 = _checked_upload(
        settings, policies, kind=kind, profile=profile, file_name=file_name, data=data)
    run = ImportRun(kind=wanted.value, profile=mapping.name, file_name=file_name[:255],
                    sha256=sha256, size=len(data), status=ImportStatus.running.value,
                    as_of=on, started_by_id=actor_id, team_id=scope.team_id,
                    report={"close_missing": close_missing})
    session.add(run)
    session.flush()
    assert run.id is not None
    jobs.start_preview(engine, policies, jobs.PreviewJob(
        run_id=run.id, kind=wanted, path=path, file_name=file_name, profile=mapping,
        as_of=on, max_bytes=settings.max_upload_bytes, close_missing=close_missing,
        actor_id=actor_id, scope=scope))
    return run.id


def _applicable(session: Session, settings: Settings, policies: PolicySet, run_id: int,
                scope: Scope) -> tuple[ImportRun, Path, Profile, date, bool]:
    """The preview to import, its kept file, profile, date and whether it closes what the
    export no longer lists; refused unless it is a clean preview of that very file. The
    preview is marked as applied once, so it cannot be imported twice."""
    run = get_run(session, run_id, scope)
    if run.status != ImportStatus.previewed.value:
        raise Conflict("Only a preview without problems can be imported; upload the file "
                       "again.", field=["path", "run_id"])
    path = _stored(settings, run.sha256)
    if not path.exists() or hashlib.sha256(path.read_bytes()).hexdigest() != run.sha256:
        raise Conflict("The previewed file is no longer here; upload it again.",
                       field=["path", "run_id"])
    report = run.report or {}
    mapping = _profile(settings, policies, run.profile)
    run.status = ImportStatus.superseded.value  # a preview is applied once
    session.add(run)
    return (run, path, mapping, run.as_of or date.fromisoformat(report["as_of"]),
            bool(report.get("close_missing")))


def apply(session: Session, *, settings: Settings, policies: PolicySet, run_id: int,
          actor_id: int | None, scope: Scope) -> ImportReport:
    """Apply a previewed import, as previewed: the same file, profile, date and options."""
    run, path, mapping, as_of, close_missing = _applicable(session, settings, policies,
                                                           run_id, scope)
    return run_import(session, kind=_kind(run.kind), path=path, file_name=run.file_name,
                      profile=mapping, policies=policies, as_of=as_of,
                      max_bytes=settings.max_upload_bytes, close_missing=close_missing,
                      dry_run=False, actor_id=actor_id, scope=scope)


def start_apply(session: Session, *, engine: Engine, settings: Settings,
                policies: PolicySet, run_id: int, actor_id: int | None, scope: Scope) -> int:
    """Record the import of a preview as applying and run it in the background (the page
    polls the run for the rows done); the new run's id. Refused as `apply` refuses."""
    preview_run, path, mapping, as_of, close_missing = _applicable(
        session, settings, policies, run_id, scope)
    assert preview_run.id is not None
    run = ImportRun(kind=preview_run.kind, profile=preview_run.profile,
                    file_name=preview_run.file_name, sha256=preview_run.sha256,
                    size=preview_run.size, status=jobs.APPLYING, as_of=as_of,
                    rows_total=preview_run.rows_total, rows_done=0, started_by_id=actor_id,
                    team_id=scope.team_id,
                    report={"close_missing": close_missing, "as_of": as_of.isoformat(),
                            "preview_run_id": preview_run.id})
    session.add(run)
    session.flush()
    assert run.id is not None
    jobs.start_apply(engine, policies, jobs.ApplyJob(
        run_id=run.id, preview_id=preview_run.id, kind=_kind(run.kind), path=path,
        sha256=run.sha256, file_name=run.file_name, profile=mapping, as_of=as_of,
        max_bytes=settings.max_upload_bytes, close_missing=close_missing,
        actor_id=actor_id, scope=scope))
    return run.id


def get_run(session: Session, run_id: int, scope: Scope) -> ImportRun:
    run = repo.run(session, run_id)
    if run is None or not (scope.team_id is None or run.team_id == scope.team_id):
        raise NotFound("import", run_id)
    return run


def list_runs(session: Session, scope: Scope) -> list[ImportRun]:
    return repo.runs_page(session, team_id=scope.team_id)


def _kind(kind: str) -> ImportKind:
    try:
        return ImportKind(kind)
    except ValueError:
        raise DomainError("Choose staff, cases or allocations.", field="kind") from None


def _profile(settings: Settings, policies: PolicySet, name: str) -> Profile:
    try:
        return find_profile(name, profiles_dir(settings), known_categories(policies))
    except ProfileError as exc:
        raise DomainError(str(exc), field="profile") from exc
