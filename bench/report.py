"""The results as Markdown, and the marked section of docs/benchmarks.md they refresh.

Only the text between the two markers is rewritten; everything else in the document
(the notes on what a profile showed, the engine's own section) is left as written.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import sys
from pathlib import Path
from typing import Any

import psutil

from bench.scenarios import SCENARIOS

START = "<!-- bench:results:start -->"
END = "<!-- bench:results:end -->"

# Issue 7's targets at `large` on PostgreSQL; SQLite is allowed twice each.
TARGETS = {
    "check_p95_ms": 25.0,
    "check_rps_ratio": 0.20,
    "dashboard_p95_ms": 150.0,
    "sweep_seconds": 10.0,
    "rss_mb": 300.0,
}
SQLITE_ALLOWANCE = 2.0


def machine() -> dict[str, str]:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "nproc": str(os.cpu_count()),
        "memory": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
    }


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _ratio(value: float | None, base: float | None) -> str:
    if not value or not base:
        return "–"
    return f"{value / base:.2f}×"


def _worst(results: dict[str, Any], keys: tuple[str, ...], field: str) -> float | None:
    values = [results[k]["latency"][field] for k in keys
              if k in results and results[k]["latency"].get("available")
              and results[k]["latency"].get(field) is not None]
    return max(values) if values else None


def target_rows(runs: dict[str, dict[str, Any]]) -> list[str]:
    """One row per target: the figure on each backend and whether it meets the target."""

    def measured(run: dict[str, Any]) -> dict[str, float | None]:
        res = run.get("scenarios", {})
        check = res.get("check", {})
        health = res.get("healthz", {})
        check_rps = check.get("throughput", {}).get("rps") if check else None
        health_rps = health.get("throughput", {}).get("rps") if health else None
        return {
            "check_p95_ms": check.get("latency", {}).get("p95_ms") if check else None,
            "check_rps_ratio": (check_rps / health_rps) if check_rps and health_rps else None,
            "dashboard_p95_ms": _worst(res, ("dashboard", "dashboard_filtered", "summary"),
                                       "p95_ms"),
            "sweep_seconds": (run.get("sweep") or {}).get("seconds"),
            "rss_mb": run.get("server", {}).get("peak_rss_mb"),
        }

    labels = {
        "check_p95_ms": ("Allocation check p95", "≤ {:g} ms", "ms"),
        "check_rps_ratio": ("Allocation check throughput ÷ /healthz", "≥ {:.0%}", "ratio"),
        "dashboard_p95_ms": ("Dashboard p95 (worst of default, filtered, summary)",
                             "≤ {:g} ms", "ms"),
        "sweep_seconds": ("Full sweep", "≤ {:g} s", "s"),
        "rss_mb": ("Server RSS (peak, one worker)", "≤ {:g} MB", "MB"),
    }
    backends = [b for b in ("postgresql", "sqlite") if b in runs]
    figures = {b: measured(runs[b]) for b in backends}
    rows = ["| Target | " + " | ".join(
        "PostgreSQL" if b == "postgresql" else f"SQLite (allowed {SQLITE_ALLOWANCE:g}×)"
        for b in backends) + " |",
        "|---|" + "---|" * len(backends)]
    for key, (label, rule, unit) in labels.items():
        cells = []
        for backend in backends:
            value = figures[backend][key]
            limit = TARGETS[key]
            higher_is_better = key == "check_rps_ratio"
            if backend == "sqlite":
                limit = limit / SQLITE_ALLOWANCE if higher_is_better else limit * SQLITE_ALLOWANCE
            if value is None:
                cells.append("not measured")
                continue
            ok = value >= limit if higher_is_better else value <= limit
            shown = f"{value:.0%}" if unit == "ratio" else f"{value:,.1f} {unit}"
            cells.append(f"{shown} {'met' if ok else '**missed**'} ({rule.format(limit)})")
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return rows


def scenario_rows(run: dict[str, Any], concurrency: int) -> list[str]:
    res = run.get("scenarios", {})
    base = res.get("healthz", {})
    base_p95 = base.get("latency", {}).get("p95_ms")
    base_rps = base.get("throughput", {}).get("rps")
    rows = [
        f"| Scenario | p50 ms | p95 ms | p99 ms | req/s (1 client) | req/s ({concurrency} "
        f"clients) | p95 ms ({concurrency} clients) | p95 ÷ healthz | req/s ÷ healthz | "
        "requests (errors) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario in SCENARIOS:
        entry = res.get(scenario.key)
        if entry is None:
            continue
        lat, thr = entry["latency"], entry["throughput"]
        if not lat.get("available"):
            rows.append(f"| {scenario.title} | not available ({lat.get('note', '')}) "
                        "| | | | | | | | |")
            continue
        count = (lat.get("count") or 0) + (thr.get("count") or 0)
        errors = (lat.get("errors") or 0) + (thr.get("errors") or 0)
        rows.append(
            f"| {scenario.title} | {_fmt(lat['p50_ms'])} | {_fmt(lat['p95_ms'])} | "
            f"{_fmt(lat['p99_ms'])} | {_fmt(lat['rps'])} | {_fmt(thr.get('rps'))} | "
            f"{_fmt(thr.get('p95_ms'))} | {_ratio(lat['p95_ms'], base_p95)} | "
            f"{_ratio(thr.get('rps'), base_rps)} | {count:,} ({errors:,}) |"
        )
    return rows


def render(result: dict[str, Any]) -> str:
    info = result["machine"]
    settings = result["settings"]
    runs: dict[str, dict[str, Any]] = result["runs"]
    lines = [
        START,
        f"## Latest results: `{settings['size']}` organisation",
        "",
        "_Generated by `make bench` (`python -m bench.run`); rerun it after a change that "
        "moves these figures._",
        "",
        f"- **When**: {result['finished']} (organisation as of {settings['as_of']}, "
        f"seed {settings['seed']})",
        f"- **Command**: `{result['command']}`",
        f"- **Machine**: {info['cpu']}, {info['nproc']} CPUs, {info['memory']} memory; "
        f"{info['os']}",
        f"- **Software**: Python {info['python']}, SQLite {info['sqlite']}, "
        f"PostgreSQL {result.get('postgres_version') or '–'}; uvicorn with one worker",
        f"- **Load**: `bench/driver.py` in its own process over loopback; each scenario "
        f"runs {settings['duration']:g} s (at most {settings['max_requests']:,} requests) "
        f"with 1 client for latency, then {settings['duration']:g} s with "
        f"{settings['concurrency']} concurrent clients for throughput",
        "",
        "### Targets (issue 7)",
        "",
        *target_rows(runs),
        "",
    ]
    for backend, run in runs.items():
        name = "PostgreSQL" if backend == "postgresql" else "SQLite"
        build = run.get("build", {})
        counts = build.get("counts", {})
        sweep = run.get("sweep") or {}
        server = run.get("server", {})
        lines += [
            f"### {name}",
            "",
            f"- **Organisation**: {_fmt(counts.get('staff in post'))} staff in post, "
            f"{_fmt(counts.get('NQSWs on a programme'))} NQSWs, "
            f"{_fmt(counts.get('open cases'))} open and {_fmt(counts.get('closed cases'))} "
            f"closed cases, {_fmt(counts.get('allocations (all time)'))} allocations, "
            f"{_fmt(counts.get('protected time bookings'))} protected-time bookings, "
            f"{_fmt(counts.get('supervision sessions'))} supervision sessions, "
            f"{_fmt(counts.get('unresolved breaches'))} unresolved and "
            f"{_fmt(counts.get('resolved breaches'))} resolved breaches",
            f"- **Load**: {_fmt(build.get('load_seconds'))} s to generate and bulk-insert "
            f"(plus {_fmt(build.get('migrate_seconds'))} s migrations, "
            f"{_fmt(build.get('sweep_seconds'))} s for the first sweep, which opens every "
            "breach)",
            f"- **Full sweep** (daily run, own process): {_fmt(sweep.get('seconds'))} s, "
            f"peak RSS {_fmt(sweep.get('peak_rss_mb'))} MB"
            + (f" — {sweep['error']}" if sweep.get("error") else ""),
            f"- **Server RSS**: {_fmt(server.get('idle_rss_mb'))} MB after start-up, peak "
            f"{_fmt(server.get('peak_rss_mb'))} MB, {_fmt(server.get('end_rss_mb'))} MB at "
            "the end",
            "",
            *scenario_rows(run, settings["concurrency"]),
            "",
        ]
    lines.append(END)
    return "\n".join(lines)


HEADER = """# Benchmarks

How fast Ringfence answers at the size of the largest organisation (issue 7), measured
against a running server, and how that is kept from regressing.

- `make bench` (or `python -m bench.run`) builds the `large` synthetic organisation
  (`app/demo`, the generator behind `ringfence demo`) into SQLite and into PostgreSQL,
  starts uvicorn with one worker, drives it from a separate process and rewrites the
  results section below. `python -m bench.run --help` lists the knobs (size, backends,
  duration, concurrency).
- Query counts are guarded by tests, not timed: `tests/api/test_query_counts.py`.

"""


def update_document(path: Path, section: str) -> None:
    """Replace the marked section (or add it after the introduction)."""
    text = path.read_text() if path.exists() else HEADER
    if START in text and END in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
