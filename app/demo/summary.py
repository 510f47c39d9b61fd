"""What is in the database: counts for the CLI summary, and a fingerprint for determinism.

The fingerprint hashes the organisation's natural keys (emails, case references,
dates), never database ids, so the same seed and as-of date give the same fingerprint
on SQLite and on PostgreSQL, on any machine.
"""

from __future__ import annotations

import hashlib
from datetime import date

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import aliased
from sqlmodel import SQLModel

import app.models  # noqa: F401  (every table registered on SQLModel.metadata)
from app.demo.generator import DemoData
from app.demo.loader import existing_tables

_T = SQLModel.metadata.tables


def organisation_counts(engine: Engine, on: date) -> dict[str, int]:
    """Headline counts on a date: the people, the programme, the work and the breaches."""
    present = existing_tables(engine)
    staff, enrolment, case = _T["staff"], _T["enrolment"], _T["case"]
    allocation = _T["allocation"]
    queries = {
        "service areas": select(func.count()).select_from(_T["service_area"]),
        "teams": select(func.count()).select_from(_T["team"]),
        "staff in post": select(func.count()).select_from(staff).where(
            (staff.c.leave_date.is_(None)) | (staff.c.leave_date > on)
        ),
        "NQSWs on a programme": select(func.count()).select_from(enrolment).where(
            enrolment.c.status.in_(("active", "paused"))
        ),
        "  of them paused": select(func.count()).select_from(enrolment).where(
            enrolment.c.status == "paused"
        ),
        "  of them on SWIP": select(func.count()).select_from(enrolment).where(
            enrolment.c.status.in_(("active", "paused")), enrolment.c.programme == "swip"
        ),
        "open cases": select(func.count()).select_from(case).where(
            case.c.closed_on.is_(None)
        ),
        "closed cases": select(func.count()).select_from(case).where(
            case.c.closed_on.is_not(None)
        ),
        "allocations (all time)": select(func.count()).select_from(allocation),
    }
    optional = {
        "protected time bookings": ("protected_time", None),
        "supervision sessions": ("supervision_session", None),
        "unresolved breaches": ("breach", "unresolved"),
        "resolved breaches": ("breach", "resolved"),
    }
    for label, (table_name, which) in optional.items():
        if table_name not in present:
            continue
        table = _T[table_name]
        query = select(func.count()).select_from(table)
        if which == "resolved":
            query = query.where(table.c.status == "resolved")
        elif which == "unresolved":
            query = query.where(table.c.status != "resolved")
        queries[label] = query
    with engine.connect() as conn:
        return {label: int(conn.execute(query).scalar_one()) for label, query in queries.items()}


def fingerprint(engine: Engine) -> str:
    """A hash of the organisation's people, programmes, cases and allocations."""
    staff, enrolment, case, allocation = (
        _T["staff"], _T["enrolment"], _T["case"], _T["allocation"]
    )
    worker = aliased(staff)
    digest = hashlib.sha256()
    queries = (
        select(staff.c.email, staff.c.role, staff.c.fte, staff.c.start_date,
               staff.c.leave_date),
        select(staff.c.email, enrolment.c.programme, enrolment.c.start_date,
               enrolment.c.status).join(staff, staff.c.id == enrolment.c.staff_id),
        select(case.c.reference, case.c.category, case.c.complexity, case.c.opened_on,
               case.c.closed_on),
        select(case.c.reference, worker.c.email, allocation.c.role, allocation.c.start_date,
               allocation.c.end_date)
        .join(case, case.c.id == allocation.c.case_id)
        .join(worker, worker.c.id == allocation.c.worker_id),
    )
    with engine.connect() as conn:
        for query in queries:
            rows = sorted(tuple(str(v) for v in row) for row in conn.execute(query))
            for row in rows:
                digest.update("|".join(row).encode())
                digest.update(b"\n")
            digest.update(b"--\n")
    return digest.hexdigest()


def data_fingerprint(data: DemoData) -> str:
    """The same hash as `fingerprint`, computed from generated rows before loading."""
    rows = data.rows
    email = {r["id"]: r["email"] for r in rows["staff"]}
    reference = {r["id"]: r["reference"] for r in rows["case"]}
    parts = (
        [(r["email"], r["role"], r["fte"], r["start_date"], r["leave_date"])
         for r in rows["staff"]],
        [(email[r["staff_id"]], r["programme"], r["start_date"], r["status"])
         for r in rows["enrolment"]],
        [(r["reference"], r["category"], r["complexity"], r["opened_on"], r["closed_on"])
         for r in rows["case"]],
        [(reference[r["case_id"]], email[r["worker_id"]], r["role"], r["start_date"],
          r["end_date"]) for r in rows["allocation"]],
    )
    digest = hashlib.sha256()
    for part in parts:
        for row in sorted(tuple(str(v) for v in row) for row in part):
            digest.update("|".join(row).encode())
            digest.update(b"\n")
        digest.update(b"--\n")
    return digest.hexdigest()
