"""Importing a whole organisation's export: 2,000 staff, 50,000 cases, 50,000 allocations.

    python -m bench.import_bench [--backend sqlite|postgresql] [--staff N --cases N]

Writes the three files (LCS-style CSV, the shipped `lcs` profile) into a temporary
directory, migrates an empty database, then times a dry run of the staff, and the three
imports in order, each in its own process-wide transaction as the command runs them,
and finally imports the three files again (nothing changes). Reports seconds per phase
and the process's peak resident memory. Targets: ≤60 s on PostgreSQL and ≤120 s on
SQLite for the full import, ≤30 s for a dry run, peak RSS ≤400 MB.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.memory import own_peak_mb

TEAMS = 40
AS_OF = date(2026, 11, 20)
ROLES = ["Social Worker"] * 6 + ["Senior Social Worker", "Advanced Practitioner",
                                   "Newly Qualified Social Worker"]
STEPS = ["CIN Plan", "CP Plan", "Early Help Assessment", "CLA", "Care Leaver Pathway"]
BANDS = ["Low", "Medium", "High"]


def _uk(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def write_files(folder: Path, staff: int, cases: int, seed: int = 7) -> dict[str, Path]:
    """The three LCS-style exports of one organisation."""
    rng = random.Random(seed)
    paths = {k: folder / f"{k}.csv" for k in ("staff", "cases", "allocations")}
    with paths["staff"].open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["Worker ID", "Worker Name", "Email", "Job Title", "Team", "FTE",
                      "Contracted Hours", "Start Date", "End Date"])
        for n in range(staff):
            out.writerow([f"W{n:05d}", f"Worker {n}", f"worker{n}@example.org",
                          rng.choice(ROLES), f"Team {n % TEAMS}", 1, 37,
                          _uk(date(2018, 1, 1) + timedelta(days=n % 2000)), ""])
    opened: list[date] = []
    with paths["cases"].open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["Person ID", "Current Step", "Complexity", "Team", "Episode Start",
                      "Episode End"])
        for n in range(cases):
            day = AS_OF - timedelta(days=rng.randrange(1, 900))
            opened.append(day)
            out.writerow([f"P{n:06d}", rng.choice(STEPS), rng.choice(BANDS),
                          f"Team {n % TEAMS}", _uk(day), ""])
    with paths["allocations"].open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["Involvement ID", "Person ID", "Worker ID", "Involvement Type",
                      "Start Date", "End Date"])
        for n in range(cases):
            worker = rng.randrange(staff)
            start = opened[n] + timedelta(days=rng.randrange(0, 30))
            out.writerow([f"I{n:06d}", f"P{n:06d}", f"W{worker:05d}",
                          "Allocated Social Worker", _uk(min(start, AS_OF)), ""])
    return paths


@contextmanager
def database(backend: str, folder: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'import.db'}"
        return
    from bench import postgres

    admin = postgres.admin_url()
    url = postgres.create_database(admin, prefix="ringfence_import_bench")
    try:
        yield postgres.url_string(url)
    finally:
        postgres.drop_database(admin, url)


def _organisation(engine: Any) -> None:
    """The teams the export names, and a coordinator to tell."""
    from app.jobs.transaction import transaction
    from app.models import ServiceArea, Staff, Team

    with transaction(engine) as session:
        area = ServiceArea(name="Children's Services")
        session.add(area)
        session.flush()
        for n in range(TEAMS):
            session.add(Team(name=f"Team {n}", service_area_id=area.id))  # type: ignore[arg-type]
        session.add(Staff(name="Cora Coordinator", email="cora@example.org",
                          role="asye_coordinator", start_date=date(2015, 1, 1)))


def _enrol_nqsws(engine: Any) -> None:
    """The imported NQSWs are enrolled (by the coordinator, not by the import), so the
    allocations import evaluates and reconciles each of them."""
    from app.jobs.transaction import transaction
    from app.models import Enrolment
    from app.repositories import staff as staff_repo

    with transaction(engine) as session:
        for staff_id in staff_repo.ids_in_post_with_role(session, "nqsw"):
            session.add(Enrolment(staff_id=staff_id, programme="asye",
                                  start_date=date(2026, 9, 1), status="active"))


def run(backend: str, staff: int, cases: int) -> dict[str, Any]:
    from app.db import make_engine
    from app.imports.apply import run_import
    from app.imports.profiles import find_profile
    from app.jobs.transaction import transaction
    from app.migrate import upgrade
    from app.models.imports import ImportKind
    from app.policy.registry import load_policy_set
    from app.settings import PROJECT_ROOT

    policies = load_policy_set(PROJECT_ROOT / "policies")
    profile = find_profile("lcs")
    timings: dict[str, Any] = {"backend": backend, "staff": staff, "cases": cases,
                               "allocations": cases}
    with tempfile.TemporaryDirectory() as tmp, database(backend, Path(tmp)) as url:
        folder = Path(tmp)
        paths = write_files(folder, staff, cases)
        upgrade(url)
        engine = make_engine(url)
        _organisation(engine)

        def one(kind: str, dry_run: bool = False) -> dict[str, Any]:
            started = time.perf_counter()
            with transaction(engine) as session:
                report = run_import(
                    session, kind=ImportKind(kind), path=paths[kind], file_name=kind,
                    profile=profile, policies=policies, as_of=AS_OF,
                    max_bytes=50 * 1024 * 1024, dry_run=dry_run)
            assert report.ok, report.errors[:5] or report.problem
            return {"seconds": round(time.perf_counter() - started, 2), **report.counts}

        timings["dry_run_staff"] = one("staff", dry_run=True)
        total = 0.0
        for kind in ("staff", "cases", "allocations"):
            timings[kind] = one(kind)
            total += timings[kind]["seconds"]
            if kind == "staff":
                _enrol_nqsws(engine)
        timings["dry_run_allocations"] = one("allocations", dry_run=True)
        timings["import_seconds"] = round(total, 2)
        again = [one(kind) for kind in ("staff", "cases", "allocations")]
        timings["again_seconds"] = round(sum(a["seconds"] for a in again), 2)
        timings["again_changed"] = sum(a["created"] + a["updated"] for a in again)
        engine.dispose()
    timings["peak_rss_mb"] = own_peak_mb()
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.import_bench", description=__doc__)
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--staff", type=int, default=2_000)
    parser.add_argument("--cases", type=int, default=50_000)
    args = parser.parse_args(argv)
    result = run(args.backend, args.staff, args.cases)
    json.dump(result, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
