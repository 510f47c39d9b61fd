"""`python -m bench.run` (`make bench`): build, serve, drive, sweep, report.

For each backend: a new database, the synthetic organisation loaded into it (the same
generator and loader as `ringfence demo`, first sweep included), uvicorn with one
worker in its own process, the load driver in another; then the daily sweep where it
runs in production, inside the server (`POST /api/v1/breaches/sweep`, the server's
memory watched throughout), and once more in a fresh process of its own (as `ringfence
sweep` runs it). Finally the engine benchmark (`bench.engine_bench`). Results go to
var/bench/ as JSON and into docs/benchmarks.md: a `large` run into the results section
that the targets are judged on, any other size into a section of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
from rich.console import Console

from app.settings import PROJECT_ROOT, Settings
from bench import report
from bench.scenarios import (
    SCENARIOS,
    Organisation,
    login,
    mint_page_session,
    mint_tokens,
    page_session,
    read_organisation,
    requests_for,
)
from bench.server import Server, run_server

# Progress lines only; the results are printed plain (no wrapping at the terminal width).
console = Console(soft_wrap=True)
BACKENDS = ("postgresql", "sqlite")
# Measured in interleaved rounds (healthz, check, healthz, check ...): the ratio of the
# two is a target, and the machine's load moves both.
ROUNDED = ("healthz", "check")
PAGE_ROLES = ("asye_coordinator", "team_manager")


@contextmanager
def database(backend: str, workdir: Path, keep: bool) -> Iterator[str]:
    """A new, empty database on the backend (dropped afterwards unless `keep`)."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    from bench import postgres

    admin = postgres.admin_url()
    url = postgres.create_database(admin, prefix="ringfence_bench")
    try:
        yield postgres.url_string(url)
    finally:
        if not keep:
            postgres.drop_database(admin, url)


def build(url: str, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    from app.db import make_engine
    from app.demo.service import load_demo
    from app.demo.summary import organisation_counts

    settings = Settings(database_url=url, data_dir=workdir, scheduler_enabled=False)  # type: ignore[call-arg]
    started = time.perf_counter()
    outcome = load_demo(settings, size=args.size, seed=args.seed, as_of=args.as_of)
    total = time.perf_counter() - started
    engine = make_engine(url)
    try:
        counts = organisation_counts(engine, args.as_of)
    finally:
        engine.dispose()
    logins = {a["role"]: f"{a['email']}:{a['password']}" for a in outcome.accounts
              if a.get("role") in PAGE_ROLES and a.get("password")}
    return {
        "logins": logins,  # removed before anything is written down
        "seconds": round(total, 2),
        "migrate_seconds": round(outcome.seconds.get("migrate", 0), 2),
        "load_seconds": round(outcome.seconds.get("load", 0), 2),
        "sweep_seconds": round(outcome.seconds.get("sweep", 0), 2),
        "table_seconds": {k: round(v, 2) for k, v in (outcome.report.seconds.items()
                                                       if outcome.report else ())},
        "counts": counts,
        "first_sweep": {k: str(v) for k, v in (outcome.sweep or {}).items()},
    }


def _phase(name: str, requests: list[dict[str, Any]], concurrency: int, writes: bool,
           args: argparse.Namespace) -> dict[str, Any]:
    return {"name": name, "requests": requests, "concurrency": concurrency,
            "duration": args.duration, "max_requests": args.max_requests,
            "warmup": 0 if writes else 10, "cycle": not writes}


def plan_for(server: Server, org: Organisation, tokens: dict[str, str],
             cookies: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    """Every phase in order: per scenario 1 client (latency) then N clients (throughput);
    right after the check's, `args.rounds - 1` more throughput rounds of /healthz and the
    check, alternating, so that each check round has its own baseline next to it."""
    selected = [s for s in SCENARIOS
                if not args.scenarios or s.key in args.scenarios or s.key == "healthz"]
    lists = {s.key: requests_for(s.key, org, seed=args.seed) for s in selected}
    phases = []
    for scenario in selected:
        requests = lists[scenario.key]
        if scenario.writes:
            # Each write once: the latency phase takes the first half of the list.
            half = len(requests) // 2
            latency, throughput = requests[:half], requests[half:]
        else:
            latency = throughput = requests
        phases.append(_phase(f"{scenario.key}:latency:1", latency, 1, scenario.writes, args))
        phases.append(_phase(f"{scenario.key}:throughput:1", throughput, args.concurrency,
                             scenario.writes, args))
        if scenario.key == "check":
            for round_no in range(2, args.rounds + 1):
                for key in ROUNDED:
                    phases.append(_phase(f"{key}:throughput:{round_no}", lists[key],
                                         args.concurrency, False, args))
    return {"base_url": server.base_url, "tokens": tokens, "cookies": cookies,
            "server_pid": server.process.pid, "phases": phases}


def drive(plan: dict[str, Any]) -> list[dict[str, Any]]:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.driver"], input=json.dumps(plan).encode(),
        capture_output=True, cwd=PROJECT_ROOT, check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"driver failed:\n{completed.stderr.decode()}")
    return json.loads(completed.stdout)


def group(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Phases by scenario: `latency`, every throughput `rounds`, and as `throughput` the
    round with the median rate (the one the tables show)."""
    scenarios: dict[str, dict[str, Any]] = {}
    for entry in results:
        key, label, _round = entry["name"].split(":")
        slot = scenarios.setdefault(key, {"rounds": []})
        if label == "latency":
            slot["latency"] = entry
        else:
            slot["rounds"].append(entry)
    for slot in scenarios.values():
        rounds = slot["rounds"]
        ordered = sorted(rounds, key=lambda e: e.get("rps") or 0)
        slot["throughput"] = ordered[(len(ordered) - 1) // 2] if ordered else {}
    return scenarios


def pages_signed_in(base_url: str, engine: Any, org: Organisation,
                    logins: dict[str, str]) -> dict[str, str]:
    """Page sessions for the coordinator and a team manager: through the sign-in form
    with the demo's sign-ins, else issued directly for the same kind of person."""
    cookies: dict[str, str] = {}
    fallback = {
        "asye_coordinator": org.coordinator_id,
        "team_manager": next((org.team_managers.get(t) for _, t, _ in org.nqsws
                              if org.team_managers.get(t)), None),
    }
    for role, key in (("asye_coordinator", "coordinator"), ("team_manager", "team_manager")):
        staff_id = fallback[role]
        if role in logins:
            email, _, password = logins[role].partition(":")
            cookies[key] = page_session(base_url, email, password)
            console.print(f"  {role}: signed in to the pages as {email} (POST /login)")
        elif staff_id is not None:
            cookies[key] = mint_page_session(engine, staff_id)
            console.print(f"  {role}: page session issued directly (no demo sign-in)")
    return cookies


def sweep_on_server(server: Server, token: str | None, as_of: date) -> dict[str, Any]:
    """The daily sweep where it runs: inside the server, asked for through the API, with
    the server's memory sampled every 20 ms and its CPU time read around it."""
    if not token:
        return {"error": "no coordinator token to ask for the sweep"}
    before_rss, before_hwm, before_cpu = server.rss_mb(), server.hwm_mb(), server.cpu_seconds()
    with server.watch(0.02) as samples:
        started = time.perf_counter()
        try:
            response = httpx.post(f"{server.base_url}/api/v1/breaches/sweep",
                                  json={"as_of": as_of.isoformat()},
                                  headers={"Authorization": f"Bearer {token}"}, timeout=600)
        except httpx.HTTPError as exc:
            return {"error": f"{type(exc).__name__}: {exc}"}
        seconds = time.perf_counter() - started
    outcome: dict[str, Any] = {
        "seconds": round(seconds, 2),
        "server_cpu_s": round(server.cpu_seconds() - before_cpu, 2),
        "rss_before_mb": round(before_rss, 1),
        "peak_rss_mb": round(max(samples), 1),
        "samples": len(samples),
        "hwm_before_mb": round(before_hwm, 1) if before_hwm is not None else None,
    }
    if response.status_code != 200:
        outcome["error"] = f"{response.status_code}: {response.text[:200]}"
    else:
        outcome["report"] = response.json()
    return outcome


def sweep_job(url: str, as_of: date) -> dict[str, Any]:
    """The sweep in a fresh process (`ringfence sweep`'s path). Its own peak comes from
    the process itself (VmHWM); this side samples it too, as a cross-check."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.sweep_job", url, as_of.isoformat()],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=PROJECT_ROOT,
    )
    sampled = 0.0
    watched = psutil.Process(process.pid)
    while process.poll() is None:
        try:
            sampled = max(sampled, watched.memory_info().rss / 2**20)
        except psutil.Error:
            pass
        time.sleep(0.02)
    stdout, stderr = process.communicate()
    if process.returncode != 0:
        tail = stderr.decode().strip().splitlines()[-1:] or ["failed"]
        return {"error": tail[0]}
    outcome = json.loads(stdout)
    outcome["sampled_peak_rss_mb"] = round(sampled, 1)
    return outcome


def engine_bench() -> dict[str, Any]:
    """`python -m bench.engine_bench --json`, read defensively: its JSON when it gives
    some, else its printed output as it stands, else the error."""
    command = [sys.executable, "-m", "bench.engine_bench", "--json"]
    completed = subprocess.run(command, capture_output=True, cwd=PROJECT_ROOT, check=False,
                               timeout=1800)
    out, err = completed.stdout.decode(), completed.stderr.decode()
    if completed.returncode == 0:
        try:
            return {"command": "python -m bench.engine_bench --json", "json": json.loads(out)}
        except ValueError:
            start = out.find("{")
            try:
                return {"command": "python -m bench.engine_bench --json",
                        "json": json.loads(out[start:])} if start >= 0 else {}
            except ValueError:
                pass
    # The interface may have changed: fall back to its plain output.
    plain = subprocess.run(command[:-1], capture_output=True, cwd=PROJECT_ROOT, check=False,
                           timeout=1800)
    if plain.returncode == 0 and plain.stdout.strip():
        return {"command": "python -m bench.engine_bench", "text": plain.stdout.decode(),
                "note": f"`--json` failed or printed no JSON (exit {completed.returncode})"}
    tail = (err or plain.stderr.decode()).strip().splitlines()[-1:] or ["failed"]
    return {"command": "python -m bench.engine_bench", "error": tail[0]}


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    from app.db import make_engine

    with tempfile.TemporaryDirectory(prefix=f"ringfence-bench-{backend}-") as tmp:
        workdir = Path(tmp)
        with database(backend, workdir, args.keep) as url:
            console.print(f"[bold]{backend}[/bold]: building the {args.size} organisation")
            built = build(url, workdir, args)
            logins = built.pop("logins")
            console.print(f"  loaded in {built['load_seconds']} s "
                          f"(first sweep {built['sweep_seconds']} s)")
            engine = make_engine(url)
            with run_server(url, workdir / "server") as server:
                try:
                    org = read_organisation(engine, args.as_of)
                    tokens = mint_tokens(engine, org)
                    cookies = pages_signed_in(server.base_url, engine, org, logins)
                finally:
                    engine.dispose()
                idle = server.rss_mb()
                if args.login:
                    email, _, password = args.login.partition(":")
                    tokens["coordinator"] = login(server.base_url, email, password)
                    console.print(f"  signed in as {email} through the password flow")
                console.print(f"  server up ({idle:.0f} MB); driving the scenarios")
                results = drive(plan_for(server, org, tokens, cookies, args))
                loaded_peak = max(server.peak_mb, server.rss_mb())
                console.print("  daily sweep in the server (POST /api/v1/breaches/sweep)")
                in_server = sweep_on_server(server, tokens.get("coordinator"), args.as_of)
                end = server.rss_mb()
                hwm = server.hwm_mb()
                peak = max(server.peak_mb, end, hwm or 0.0)
            console.print("  the same sweep in a fresh process of its own")
            own_process = sweep_job(url, args.as_of)
            version = source = None
            if backend == "postgresql":
                from bench.postgres import server_source, server_version

                version, source = server_version(url), server_source()
    return {
        "backend": backend, "build": built, "scenarios": group(results),
        "sweep": in_server, "sweep_own_process": own_process,
        "server": {"idle_rss_mb": round(idle, 1), "loaded_peak_rss_mb": round(loaded_peak, 1),
                   "peak_rss_mb": round(peak, 1), "end_rss_mb": round(end, 1),
                   "hwm_mb": round(hwm, 1) if hwm is not None else None},
        "postgres_version": version, "postgres_source": source,
    }


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--size", default="large", choices=("small", "medium", "large"),
                        help="only `large` is judged against the targets (default)")
    parser.add_argument("--backends", default=",".join(BACKENDS),
                        help="comma-separated: postgresql,sqlite")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", type=date.fromisoformat, default=None,
                        help="organisation date (default today)")
    parser.add_argument("--duration", type=float, default=8.0,
                        help="seconds per phase (each scenario has two)")
    parser.add_argument("--max-requests", type=int, default=4_000, help="cap per phase")
    parser.add_argument("--concurrency", type=int, default=4,
                        help="clients in the throughput phase")
    parser.add_argument("--rounds", type=int, default=3,
                        help="throughput rounds of /healthz and the check, interleaved "
                        "(the ratio reported is their median)")
    parser.add_argument("--scenarios", default="",
                        help="comma-separated subset (healthz always runs)")
    parser.add_argument("--no-engine", action="store_true",
                        help="skip the engine benchmark (python -m bench.engine_bench)")
    parser.add_argument("--no-docs", action="store_true",
                        help="do not rewrite docs/benchmarks.md")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--login", default=os.environ.get("RINGFENCE_BENCH_LOGIN", ""),
                        help="EMAIL:PASSWORD of a demo coordinator account: sign in through "
                        "POST /api/v1/auth/token for the coordinator's API requests")
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(args.backends) - set(BACKENDS)
    if unknown:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown))}")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    args.scenarios = {s.strip() for s in args.scenarios.split(",") if s.strip()}
    if args.as_of is None:
        from app.clock import today

        args.as_of = today()
    return args


def shown_command(argv: list[str] | None) -> str:
    """The command as run, never with a password in it (it goes into the docs)."""
    given = list(argv if argv is not None else sys.argv[1:])
    for index, word in enumerate(given):
        if word.startswith("--login="):
            given[index] = "--login=***"
        elif word == "--login" and index + 1 < len(given):
            given[index + 1] = "***"
    return "python -m bench.run" + (" " + shlex.join(given) if given else "")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    command = shown_command(argv)
    runs = {backend: run_backend(backend, args) for backend in args.backends}
    engine = None
    if not args.no_engine:
        console.print("engine benchmark (python -m bench.engine_bench)")
        engine = engine_bench()
    result = {
        "finished": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command,
        "machine": report.machine(),
        "settings": {"size": args.size, "seed": args.seed, "as_of": args.as_of.isoformat(),
                     "duration": args.duration, "max_requests": args.max_requests,
                     "concurrency": args.concurrency, "rounds": args.rounds},
        "postgres_version": next((r["postgres_version"] for r in runs.values()
                                  if r.get("postgres_version")), None),
        "postgres_source": next((r["postgres_source"] for r in runs.values()
                                 if r.get("postgres_source")), None),
        "runs": runs,
        "engine": engine,
    }
    out_dir = PROJECT_ROOT / "var" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"results-{args.size}.json").write_text(json.dumps(result, indent=2,
                                                                  default=str))
    section = report.render(result)
    print(section, flush=True)
    if not args.no_docs:
        report.update_document(PROJECT_ROOT / "docs" / "benchmarks.md", section,
                               size=args.size)
        console.print(f"docs/benchmarks.md updated ({report.section_name(args.size)})")


if __name__ == "__main__":
    main()
