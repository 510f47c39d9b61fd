"""`python -m bench.run` (`make bench`): build, serve, drive, sweep, report.

For each backend: a new database, the synthetic organisation loaded into it (the same
generator and loader as `ringfence demo`, first sweep included), uvicorn with one
worker in its own process, the load driver in another, then the daily sweep in a
third. Results go to var/bench/ as JSON and into the marked section of
docs/benchmarks.md.
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

from rich.console import Console

from app.settings import PROJECT_ROOT, Settings
from bench import report
from bench.scenarios import SCENARIOS, login, mint_tokens, read_organisation, requests_for
from bench.server import run_server

console = Console()
BACKENDS = ("postgresql", "sqlite")


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

    settings = Settings(database_url=url, data_dir=workdir, scheduler_enabled=False,
                        demo=False)  # type: ignore[call-arg]
    started = time.perf_counter()
    outcome = load_demo(settings, size=args.size, seed=args.seed, as_of=args.as_of)
    total = time.perf_counter() - started
    engine = make_engine(url)
    try:
        counts = organisation_counts(engine, args.as_of)
    finally:
        engine.dispose()
    coordinator = next((a for a in outcome.accounts if a.get("role") == "asye_coordinator"
                        and a.get("password")), None)
    return {
        "coordinator_login": f"{coordinator['email']}:{coordinator['password']}"
        if coordinator else "",
        "seconds": round(total, 2),
        "migrate_seconds": round(outcome.seconds.get("migrate", 0), 2),
        "load_seconds": round(outcome.seconds.get("load", 0), 2),
        "sweep_seconds": round(outcome.seconds.get("sweep", 0), 2),
        "table_seconds": {k: round(v, 2) for k, v in (outcome.report.seconds.items()
                                                       if outcome.report else ())},
        "counts": counts,
        "first_sweep": {k: str(v) for k, v in (outcome.sweep or {}).items()},
    }


def plan_for(base_url: str, org: Any, tokens: dict[str, str],
             args: argparse.Namespace) -> dict[str, Any]:
    phases = []
    for scenario in SCENARIOS:
        if args.scenarios and scenario.key not in args.scenarios and scenario.key != "healthz":
            continue
        requests = requests_for(scenario.key, org, seed=args.seed)
        for label, concurrency in (("latency", 1), ("throughput", args.concurrency)):
            if scenario.writes:
                # Each write once: the latency phase takes the first half of the list.
                half = len(requests) // 2
                chunk = requests[:half] if label == "latency" else requests[half:]
            else:
                chunk = requests
            phases.append({
                "name": f"{scenario.key}:{label}", "requests": chunk,
                "concurrency": concurrency, "duration": args.duration,
                "max_requests": args.max_requests, "warmup": 0 if scenario.writes else 10,
                "cycle": not scenario.writes,
            })
    return {"base_url": base_url, "tokens": tokens, "phases": phases}


def drive(plan: dict[str, Any]) -> list[dict[str, Any]]:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.driver"], input=json.dumps(plan).encode(),
        capture_output=True, cwd=PROJECT_ROOT, check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"driver failed:\n{completed.stderr.decode()}")
    return json.loads(completed.stdout)


def sweep_job(url: str, as_of: date) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.sweep_job", url, as_of.isoformat()],
        capture_output=True, cwd=PROJECT_ROOT, check=False,
    )
    if completed.returncode != 0:
        tail = completed.stderr.decode().strip().splitlines()[-1:] or ["failed"]
        return {"error": tail[0]}
    return json.loads(completed.stdout)


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    from app.db import make_engine

    with tempfile.TemporaryDirectory(prefix=f"ringfence-bench-{backend}-") as tmp:
        workdir = Path(tmp)
        with database(backend, workdir, args.keep) as url:
            console.print(f"[bold]{backend}[/bold]: building the {args.size} organisation")
            built = build(url, workdir, args)
            console.print(f"  loaded in {built['load_seconds']} s "
                          f"(first sweep {built['sweep_seconds']} s)")
            engine = make_engine(url)
            try:
                org = read_organisation(engine, args.as_of)
                tokens = mint_tokens(engine, org)
            finally:
                engine.dispose()
            with run_server(url, workdir / "server") as server:
                idle = server.rss_mb()
                login_as = args.login or built.pop("coordinator_login", "")
                if login_as:
                    email, _, password = login_as.partition(":")
                    tokens["coordinator"] = login(server.base_url, email, password)
                    console.print(f"  signed in as {email} through the password flow")
                console.print(f"  server up ({idle:.0f} MB); driving "
                              f"{len(SCENARIOS)} scenarios")
                results = drive(plan_for(server.base_url, org, tokens, args))
                end = server.rss_mb()
                peak = max(server.peak_mb, end)
            console.print("  daily sweep in its own process")
            sweep = sweep_job(url, args.as_of)
            version = None
            if backend == "postgresql":
                from bench.postgres import server_version

                version = server_version(url)
    scenarios: dict[str, dict[str, Any]] = {}
    for entry in results:
        key, label = entry["name"].split(":")
        scenarios.setdefault(key, {})[label] = entry
    return {
        "backend": backend, "build": built, "scenarios": scenarios, "sweep": sweep,
        "server": {"idle_rss_mb": round(idle, 1), "peak_rss_mb": round(peak, 1),
                   "end_rss_mb": round(end, 1)},
        "postgres_version": version,
    }


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--size", default="large", choices=("small", "medium", "large"))
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
    parser.add_argument("--scenarios", default="",
                        help="comma-separated subset (healthz always runs)")
    parser.add_argument("--no-docs", action="store_true",
                        help="do not rewrite docs/benchmarks.md")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--login", default=os.environ.get("RINGFENCE_BENCH_LOGIN", ""),
                        help="EMAIL:PASSWORD of a demo coordinator account: sign in through "
                        "POST /api/v1/auth/token for the coordinator's requests")
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(args.backends) - set(BACKENDS)
    if unknown:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown))}")
    args.scenarios = {s.strip() for s in args.scenarios.split(",") if s.strip()}
    if args.as_of is None:
        from app.clock import today

        args.as_of = today()
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    given = list(argv if argv is not None else sys.argv[1:])
    for index, word in enumerate(given):  # never write a password into the docs
        if word.startswith("--login="):
            given[index] = "--login=***"
        elif word == "--login" and index + 1 < len(given):
            given[index + 1] = "***"
    command = "python -m bench.run" + (" " + shlex.join(given) if given else "")
    runs = {backend: run_backend(backend, args) for backend in args.backends}
    result = {
        "finished": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command,
        "machine": report.machine(),
        "settings": {"size": args.size, "seed": args.seed, "as_of": args.as_of.isoformat(),
                     "duration": args.duration, "max_requests": args.max_requests,
                     "concurrency": args.concurrency},
        "postgres_version": next((r["postgres_version"] for r in runs.values()
                                  if r.get("postgres_version")), None),
        "runs": runs,
    }
    out_dir = PROJECT_ROOT / "var" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"results-{args.size}.json").write_text(json.dumps(result, indent=2,
                                                                  default=str))
    section = report.render(result)
    console.print(section)
    if not args.no_docs:
        report.update_document(PROJECT_ROOT / "docs" / "benchmarks.md", section)
        console.print("docs/benchmarks.md updated")


if __name__ == "__main__":
    main()
