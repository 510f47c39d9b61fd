"""Previewing an uploaded export in the background, so the page can show its progress.

The upload request records the run as running and starts this; the file is read and
checked row by row outside any transaction (a short one records the rows read, every
thousand, for the page polling the run), then planned and previewed in one transaction
that records the report on the same run. Nothing but the run is written.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from app.imports.apply import ImportReport, read_export, run_import
from app.imports.plan import Scope
from app.imports.profiles import Profile
from app.jobs.transaction import transaction
from app.models.imports import ImportKind, ImportStatus
from app.policy.registry import PolicySet
from app.repositories import imports as repo

log = logging.getLogger(__name__)
# How long the job waits for the upload request to commit the run it is to fill in.
WAIT_SECONDS = 30.0


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


def preview(engine: Engine, policies: PolicySet, job: PreviewJob) -> ImportReport | None:
    if not _committed(engine, job.run_id):
        log.warning("import run %s was never recorded; its preview is dropped", job.run_id)
        return None

    def tell(stage: str, done: int, total: int | None) -> None:
        if stage == "reading" and done:
            with transaction(engine) as session:
                repo.set_progress(session, job.run_id, done)

    try:
        read = read_export(job.kind, job.path, job.profile, job.max_bytes, tell)
        with transaction(engine) as session:
            return run_import(
                session, kind=job.kind, path=job.path, file_name=job.file_name,
                profile=job.profile, policies=policies, as_of=job.as_of,
                max_bytes=job.max_bytes, close_missing=job.close_missing, dry_run=True,
                actor_id=job.actor_id, scope=job.scope, read=read, run_id=job.run_id)
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
