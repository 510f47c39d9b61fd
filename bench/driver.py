"""The load driver: runs in its own process, reads a plan as JSON on stdin, writes results.

Why a small httpx/asyncio driver rather than locust or wrk: it needs no new dependency
(httpx is already the service's client library), every request can carry its own body
and bearer token (a what-if check for a different NQSW and case each time, a write that
must never repeat), it runs a closed loop at a fixed concurrency so that latency and
throughput come from the same requests, and it prints exact percentiles as JSON that
`bench.run` writes straight into docs/benchmarks.md. Its own cost per request is the
same for every scenario, which is why every figure is also given as a ratio to the
`GET /healthz` baseline measured by the same driver against the same server.

When the plan names the server's process (`server_pid`), each phase also reports the
server's CPU time over its timed part (user + system, read with psutil): server CPU per
request does not depend on how fast the driver itself can go, so it is the steadier
figure when the machine is busy.

Who asks: a request names a bearer token (`token`, a key of the plan's `tokens`) for the
API, or a page session (`cookie`, a key of the plan's `cookies`: the `Cookie` header a
browser signed in through `POST /login` sends) for the HTML pages. The client keeps no
cookies of its own, so a request carries exactly the credentials its spec names.

Bounded by construction: each phase stops at `duration` seconds or `max_requests`
requests, whichever comes first, and refuses any base URL that is not loopback.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import math
import sys
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import psutil

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass
class Phase:
    name: str
    requests: list[dict[str, Any]]
    concurrency: int = 1
    duration: float = 8.0
    max_requests: int = 4_000
    warmup: int = 10
    cycle: bool = True  # reuse the request list (False for writes: each once at most)


@dataclass
class Result:
    name: str
    concurrency: int
    available: bool = True
    count: int = 0
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    server_cpu_s: float | None = None
    note: str = ""

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)

        def pct(p: float) -> float | None:
            if not ordered:
                return None
            index = min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))
            return round(ordered[index], 2)  # nearest rank

        return {
            "name": self.name, "concurrency": self.concurrency, "available": self.available,
            "count": self.count, "errors": self.errors, "statuses": self.statuses,
            "seconds": round(self.seconds, 3),
            "rps": round(self.count / self.seconds, 1) if self.seconds else None,
            "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99),
            "mean_ms": round(sum(ordered) / len(ordered), 2) if ordered else None,
            "max_ms": round(ordered[-1], 2) if ordered else None,
            "server_cpu_s": round(self.server_cpu_s, 3) if self.server_cpu_s is not None
            else None,
            "cpu_ms_per_request": round(1000 * self.server_cpu_s / self.count, 3)
            if self.server_cpu_s is not None and self.count else None,
            "note": self.note,
        }


def _is_missing_route(response: httpx.Response) -> bool:
    """FastAPI's own 404/405 for a path it does not route (not "NQSW 12 not found")."""
    if response.status_code == 405:
        return True
    if response.status_code != 404:
        return False
    try:
        return response.json().get("detail") == "Not Found"
    except ValueError:
        return True


@dataclass
class Credentials:
    tokens: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)  # key -> "name=value"


class ServerClock:
    """CPU seconds used by the server's process tree (None when it cannot be read)."""

    def __init__(self, pid: int | None) -> None:
        self.process = psutil.Process(pid) if pid else None

    def read(self) -> float | None:
        if self.process is None:
            return None
        try:
            procs = [self.process, *self.process.children(recursive=True)]
            return sum(t.user + t.system for t in (p.cpu_times() for p in procs))
        except psutil.Error:
            return None


async def _send(client: httpx.AsyncClient, spec: dict[str, Any],
                credentials: Credentials) -> httpx.Response:
    headers = {}
    token = credentials.tokens.get(spec.get("token") or "")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    cookie = credentials.cookies.get(spec.get("cookie") or "")
    if cookie:
        headers["Cookie"] = cookie
    return await client.request(spec.get("method", "GET"), spec["path"],
                                params=spec.get("params"), json=spec.get("json"),
                                headers=headers)


async def run_phase(client: httpx.AsyncClient, phase: Phase, credentials: Credentials,
                    clock: ServerClock | None = None) -> Result:
    result = Result(phase.name, phase.concurrency)
    if not phase.requests:
        result.available, result.note = False, "no requests could be prepared"
        return result
    probe = await _send(client, phase.requests[0], credentials)
    if _is_missing_route(probe):
        result.available, result.note = False, f"{probe.status_code}: not available"
        return result
    if probe.is_redirect and probe.headers.get("location", "").startswith("/login"):
        result.available, result.note = False, "sent to sign in: no page session"
        return result
    position = 1
    for _ in range(phase.warmup if phase.cycle else 0):
        await _send(client, phase.requests[position % len(phase.requests)], credentials)
        position += 1
    queue_lock = asyncio.Lock()
    deadline = time.perf_counter() + phase.duration
    issued = 0

    async def next_spec() -> dict[str, Any] | None:
        nonlocal position, issued
        async with queue_lock:
            if issued >= phase.max_requests or time.perf_counter() >= deadline:
                return None
            if not phase.cycle and position >= len(phase.requests):
                return None
            spec = phase.requests[position % len(phase.requests)]
            position += 1
            issued += 1
            return spec

    async def worker() -> None:
        while (spec := await next_spec()) is not None:
            started = time.perf_counter()
            try:
                response = await _send(client, spec, credentials)
                status = str(response.status_code)
                ok = response.is_success
            except httpx.HTTPError as exc:
                status, ok = type(exc).__name__, False
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            result.count += 1
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if not ok:
                result.errors += 1

    cpu_before = clock.read() if clock else None
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(phase.concurrency)))
    result.seconds = time.perf_counter() - started
    cpu_after = clock.read() if clock else None
    if cpu_before is not None and cpu_after is not None:
        result.server_cpu_s = cpu_after - cpu_before
    return result


async def run_plan(plan: dict[str, Any]) -> list[dict[str, Any]]:
    base_url = plan["base_url"]
    host = urlsplit(base_url).hostname or ""
    if host not in LOOPBACK:
        raise SystemExit(f"refusing to load anything but loopback (got {host!r})")
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    timeout = httpx.Timeout(plan.get("timeout", 60.0))
    credentials = Credentials(plan.get("tokens", {}), plan.get("cookies", {}))
    clock = ServerClock(plan.get("server_pid"))
    # Keep no cookie a response sets: each request carries only what its spec names.
    jar = http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    results = []
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout,
                                 cookies=jar) as client:
        for raw in plan["phases"]:
            phase = Phase(**raw)
            results.append((await run_phase(client, phase, credentials, clock)).summary())
    return results


def main() -> None:
    plan = json.load(sys.stdin)
    json.dump(asyncio.run(run_plan(plan)), sys.stdout)


if __name__ == "__main__":
    main()
