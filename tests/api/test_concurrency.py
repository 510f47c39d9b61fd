"""Two allocations can never both squeeze under a cap: 20 at once, one case below it.

Against a running server on a database of its own (real commits), on SQLite (the
write transaction takes the database lock at BEGIN IMMEDIATE) and on PostgreSQL (a
row lock on the NQSW's enrolment before the snapshot is read).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import httpx
from sqlmodel import Session, col, func, select

from app.auth.testing import all_access_token
from app.db import make_engine
from app.models import Allocation, Breach
from tests.scenarios import seed
from tests.support.live_server import live_server

START = date(2026, 9, 1)
ON = date(2026, 10, 5)  # first 3 months: a firm cap of 5
CAP = 5
REQUESTS = 20


def _seed(database_url: str) -> tuple[int, list[int], str]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            token = all_access_token(session)
            org = seed.organisation(session)
            worker, _ = seed.nqsw(session, org, start=START)
            seed.load(session, worker, CAP - 1, start=START)
            cases = [seed.case(session, opened_on=START) for _ in range(REQUESTS)]
            session.commit()
            assert worker.id is not None
            return worker.id, [c.id for c in cases if c.id is not None], token
    finally:
        engine.dispose()


def _active_count(database_url: str, worker_id: int) -> tuple[int, int]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            active = session.exec(
                select(func.count(col(Allocation.id))).where(
                    col(Allocation.worker_id) == worker_id,
                    col(Allocation.start_date) <= ON,
                    col(Allocation.end_date).is_(None),
                )
            ).one()
            cap_breaches = session.exec(
                select(func.count(col(Breach.id))).where(
                    col(Breach.staff_id) == worker_id, col(Breach.rule_id) == "caseload-cap"
                )
            ).one()
            return int(active), int(cap_breaches)
    finally:
        engine.dispose()


async def _fire(
    base_url: str, token: str, worker_id: int, case_ids: list[int]
) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=REQUESTS)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=base_url, timeout=120, limits=limits, headers=headers
    ) as client:
        return list(await asyncio.gather(*(
            client.post("/api/v1/allocations", json={
                "case_id": case_id, "worker_id": worker_id, "role": "holder",
                "start_date": ON.isoformat(),
            })
            for case_id in case_ids
        )))


def test_twenty_concurrent_allocations_one_below_the_cap(
    fresh_database_url: str, tmp_path: Path
) -> None:
    worker_id, case_ids, token = _seed(fresh_database_url)
    with live_server(fresh_database_url, tmp_path) as server:
        # Its own thread and event loop: a browser test earlier in the session may own the
        # main thread's loop.
        with ThreadPoolExecutor(max_workers=1) as pool:
            responses = pool.submit(
                asyncio.run, _fire(server.base_url, token, worker_id, case_ids)
            ).result()
        log = server.log()
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (REQUESTS - 1), (statuses, log)
    refused = [r.json() for r in responses if r.status_code == 409]
    assert all(
        any(d.get("finding", {}).get("rule_id") == "caseload-cap" for d in body["detail"])
        for body in refused
    )
    active, cap_breaches = _active_count(fresh_database_url, worker_id)
    assert active == CAP
    assert cap_breaches == 0  # refused requests wrote nothing
