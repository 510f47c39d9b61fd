"""Two allocations can never both squeeze under a cap: 20 at once, one case below it.

Against a running server on a database of its own (real commits), on SQLite (the
write transaction takes the database lock at BEGIN IMMEDIATE) and on PostgreSQL (a
row lock on the NQSW's enrolment before the snapshot is read).

Nothing else may serialise the requests, or the test would pass without the lock: each
request has a token of its own, already used once before the burst, so no request
writes to a row another one writes (a token's first use records when it was used).
Without the NQSW lock this test fails (more than one 201, or errors).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import httpx
from sqlmodel import Session, col, func, select

from app.auth import tokens as token_service
from app.auth.principal import ALL_ACCESS
from app.db import make_engine
from app.models import Account, Allocation, Breach
from tests.scenarios import seed
from tests.support.live_server import live_server

START = date(2030, 9, 2)
# The programme's second day: a firm cap of 5, and nothing else to breach yet (no
# supervision or protected time is due), so no request opens a breach another one could
# collide with: only the NQSW lock stands between the twenty.
ON = date(2030, 9, 3)
CAP = 5
REQUESTS = 20


def _tokens(session: Session, count: int) -> list[str]:
    """`count` all-access tokens, one per request, each on an account of its own."""
    made = []
    for n in range(count):
        account = Account(email=f"burst-{n}@tests.invalid")
        session.add(account)
        session.flush()
        secret, _ = token_service.issue_access_token(
            session, account, minutes=60, scopes=("read", "write", ALL_ACCESS)
        )
        made.append(secret)
    return made


def _seed(database_url: str) -> tuple[int, list[int], list[str]]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            secrets = _tokens(session, REQUESTS)
            org = seed.organisation(session)
            worker, _ = seed.nqsw(session, org, start=START)
            seed.load(session, worker, CAP - 1, start=START)
            cases = [seed.case(session, opened_on=START) for _ in range(REQUESTS)]
            session.commit()
            assert worker.id is not None
            return worker.id, [c.id for c in cases if c.id is not None], secrets
    finally:
        engine.dispose()


def _use_once(base_url: str, tokens: list[str]) -> None:
    """Each token's first use is recorded on its row: done now, before the burst."""
    for token in tokens:
        response = httpx.get(f"{base_url}/api/v1/policies", timeout=30,
                             headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text


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
                select(func.count(col(Breach.id))).where(col(Breach.staff_id) == worker_id)
            ).one()
            return int(active), int(cap_breaches)
    finally:
        engine.dispose()


async def _fire(
    base_url: str, tokens: list[str], worker_id: int, case_ids: list[int]
) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=REQUESTS)
    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as client:
        return list(await asyncio.gather(*(
            client.post("/api/v1/allocations", json={
                "case_id": case_id, "worker_id": worker_id, "role": "holder",
                "start_date": ON.isoformat(),
            }, headers={"Authorization": f"Bearer {token}"})
            for case_id, token in zip(case_ids, tokens, strict=True)
        )))


def test_twenty_concurrent_allocations_one_below_the_cap(
    fresh_database_url: str, tmp_path: Path
) -> None:
    worker_id, case_ids, tokens = _seed(fresh_database_url)
    with live_server(fresh_database_url, tmp_path) as server:
        _use_once(server.base_url, tokens)
        # Its own thread and event loop: a browser test earlier in the session may own the
        # main thread's loop.
        with ThreadPoolExecutor(max_workers=1) as pool:
            responses = pool.submit(
                asyncio.run, _fire(server.base_url, tokens, worker_id, case_ids)
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
    assert cap_breaches == 0  # no breach at all: refused requests wrote nothing
