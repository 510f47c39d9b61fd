"""Previewing and importing an uploaded export in the background, so the page can show
its progress.

The upload request records the run as running and starts the preview; the file is read
and checked row by row outside any transaction (a short one records the rows read, every
thousand, for the page polling the run), then planned and previewed in one transaction
that records the report on the same run. Nothing but the run is written.

Choosing "Import" records a new run as applying and starts the import the same way: the
rows are read with their progress committed as they go, then everything the import
writes (its records, the breaches it opens, the notices, the run's report) is one
transaction, so an import that fails part-way leaves nothing of itself behind; the run
then says why, and the preview can be imported again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from app.imports.apply import ImportReport, read_export, run_import
from app.imports.plan import Scope
from app.imports.profiles import Profile
from app.jobs.transaction import transaction
from app.models.base import utcnow
from app.models.imports import ImportKind, ImportStatus
from app.policy.registry import PolicySet
from app.repositories import imports as repo

log = logging.getLogger(__name__)
# How long the job waits for the upload request to commit the run it is to fill in.
WAIT_SECONDS = 30.0
# The status of a run whose import is under way (the page polls it for the rows done).
APPLYING = "applying"


@dataclass(frozen=True)
class PreviewJob:
    run_id: int
    kind: ImportKind
    path: Path
    file_name: str
    profile: Profile
    as_of: date
    max_bytes: int
    close_missing: bool
    actor_id: int | None
    scope: Scope


def start_preview(engine: Engine, policies: PolicySet, job: PreviewJob) -> threading.Thread:
    """Preview `job` on a thread of its own; the run shows its progress and then its report."""
    thread = threading.Thread(target=preview, args=(engine, policies, job),
                              name=f"import-preview-{job.run_id}", daemon=True)
    thread.start()
    return thread


def _committed(engine: Engine, run_id: int) -> bool:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        with transaction(engine) as session:
            if repo.run_exists(session, run_id):
                return True
        time.sleep(0.1)
    return False


def _progress(
    engine: Engine, run_id: int, *, stages: tuple[str, ...]
) -> Callable[[str, int, int | None], None]:
    """What the reader calls as it goes: the rows done in `stages`, committed at once,
    outside the import's own transaction, for the page that polls the run."""

    def tell(stage: str, done: int, total: int | None) -> None:
        if stage in stages and done:
            with transaction(engine) as session:
                repo.set_progress(session, run_id, done)

    return tell


def _import(
    engine: Engine, policies: PolicySet, job: PreviewJob | ApplyJob, read: Any, *,
    dry_run: bool,
) -> ImportReport:
    """The import itself, of rows already read, in one transaction: a preview's is rolled
    back (`dry_run`), an import's committed whole or not at all."""
    with transaction(engine) as session:
        return run_import(
            session, kind=job.kind, path=job.path, file_name=job.file_name,
            profile=job.profile, policies=policies, as_of=job.as_of,
            max_bytes=job.max_bytes, close_missing=job.close_missing, dry_run=dry_run,
            actor_id=job.actor_id, scope=job.scope, read=read, run_id=job.run_id)


def preview(engine: Engine, policies: PolicySet, job: PreviewJob) -> ImportReport | None:
    if not _committed(engine, job.run_id):
        log.warning("import run %s was never recorded; its preview is dropped", job.run_id)
        return None

    tell = _progress(engine, job.run_id, stages=("reading",))
    try:
        read = read_export(job.kind, job.path, job.profile, job.max_bytes, tell)
        return _import(engine, policies, job, read, dry_run=True)
    except Exception:
        log.exception("import run %s could not be previewed", job.run_id)
        with transaction(engine) as session:
            run = repo.run(session, job.run_id)
            if run is not None:
                run.status = ImportStatus.failed.value
                run.report = {"problem": "The file could not be checked; try again, or ask "
                                         "an administrator to look at the service's log.",
                              "errors": [], "consequences": []}
                session.add(run)
        return None


@dataclass(frozen=True)
class ApplyJob:
    """Importing a preview, as previewed: the run to fill in and the preview it applies."""

    run_id: int
    preview_id: int
    kind: ImportKind
    path: Path
    sha256: str
    file_name: str
    profile: Profile
    as_of: date
    max_bytes: int
    close_missing: bool
    actor_id: int | None
    scope: Scope


class _FileChanged(Exception):
    """The kept file is not the one previewed (removed or altered since)."""


def start_apply(engine: Engine, policies: PolicySet, job: ApplyJob) -> threading.Thread:
    """Import `job` on a thread of its own; the run shows the rows done, then its report."""
    thread = threading.Thread(target=apply, args=(engine, policies, job),
                              name=f"import-apply-{job.run_id}", daemon=True)
    thread.start()
    return thread


def apply(engine: Engine, policies: PolicySet, job: ApplyJob) -> ImportReport | None:
    """Import the previewed file into the run `job` names; on any failure nothing of the
    import is kept and the run says why."""
    if not _committed(engine, job.run_id):
        log.warning("import run %s was never recorded; its import is dropped", job.run_id)
        return None

    tell = _progress(engine, job.run_id, stages=("reading", "checking"))

    try:
        if not job.path.exists():
            raise _FileChanged
        read = read_export(job.kind, job.path, job.profile, job.max_bytes, tell)
        if read.problem is None and read.sha256 != job.sha256:
            raise _FileChanged
        return _import(engine, policies, job, read, dry_run=False)
    except _FileChanged:
        _failed(engine, job, "The previewed file is no longer here, or has changed since "
                             "its preview, so nothing was imported. Upload it again.")
    except Exception:
        log.exception("import run %s could not be applied", job.run_id)
        # Nothing was written, so the preview still says what importing would do.
        _failed(engine, job, "The import stopped before it finished, so nothing was "
                             "imported. Try again from the preview, or ask an administrator "
                             "to look at the service's log.", retry=True)
    return None


def _failed(engine: Engine, job: ApplyJob, problem: str, *, retry: bool = False) -> None:
    with transaction(engine) as session:
        run = repo.run(session, job.run_id)
        if run is not None:
            run.status = ImportStatus.failed.value
            run.report = {"problem": problem, "errors": [], "consequences": [],
                          "retry_run_id": job.preview_id if retry else None}
            run.finished_at = utcnow()
            session.add(run)
        preview = repo.run(session, job.preview_id)
        if retry and preview is not None and preview.status == ImportStatus.superseded.value:
            preview.status = ImportStatus.previewed.value
            session.add(preview)
