"""How long the engine takes to evaluate one NQSW under the shipped active policies.

Run alone: ``.venv/bin/python -m bench.engine_bench`` (``--iterations N``, ``--json``).

What is measured is `app.policy.engine.evaluate` on a realistic snapshot under exactly
the policies `policies/active.toml` activates (loaded with `load_policy_set`, as the
service does at start-up): 30 allocations of mixed categories, complexities and roles;
a diary of protected time booked at the start of the year, partly taken, cancelled and
rebooked; supervision at the promised frequency with the odd cancellation; the reviews
held so far; England and Wales bank holidays; a sign-off and a pause where the stage
calls for them. It is measured at several stages of the programme, because each stage
takes different paths (caps, gates before and after the sign-off, diary windows).

Each stage cycles through 20 NQSWs (different start dates and caseloads) so that no
single object is timed over and over; the engine's caches (month lengths, entitlement
ledgers) are warm after the warm-up, as they are in a running service. Each call is
timed on its own with `perf_counter_ns`, the garbage collector paused; the table gives
the median and 95th percentile per stage, and the median of every call pooled.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import holidays

from app.policy.engine import evaluate
from app.policy.policies import PolicySet
from app.policy.programme import add_months
from app.policy.registry import load_policy_set
from app.policy.snapshot import (
    CaseLoadItem,
    PauseSpan,
    ProtectedTimeEntry,
    ReviewRecord,
    SignOffRecord,
    Snapshot,
    SupervisionRecord,
)

POLICY_DIR = Path(__file__).resolve().parent.parent / "policies"
TARGET_MS = 1.0
ALLOCATIONS = 30
NQSWS_PER_STAGE = 20
CATEGORIES = (
    "child_in_need", "early_help", "looked_after", "child_protection_plan",
    "care_leaver", "court_work", "care_proceedings", "other",
)


@dataclass(frozen=True)
class Stage:
    """A point in the programme to measure at: what the NQSW's record looks like then."""

    label: str
    programme: str
    months: int
    days: int = 0
    signed_off: bool = False
    paused: bool = False


STAGES = (
    Stage("ASYE month 1 (week 3)", "asye", 0, days=20),
    Stage("ASYE month 4", "asye", 3, days=10),
    Stage("ASYE month 7, signed off for CP", "asye", 6, days=12, signed_off=True),
    Stage("ASYE month 11, after a 3-week pause", "asye", 10, days=5, signed_off=True,
          paused=True),
    Stage("SWIP month 19, signed off for CP", "swip", 18, days=3, signed_off=True),
)


def bank_holidays(first_year: int, last_year: int) -> frozenset[date]:
    """England and Wales bank holidays, as the snapshot service supplies them."""
    return frozenset(
        holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    )


def _caseload(start: date, seed: int) -> tuple[CaseLoadItem, ...]:
    items = []
    for i in range(1, ALLOCATIONS + 1):
        n = i + seed
        items.append(CaseLoadItem(
            case_id=seed * 100 + i,
            reference=f"C-{seed:03d}-{i:02d}",
            category=CATEGORIES[n % len(CATEGORIES)],
            complexity=1 + n % 4,
            role="co_worker" if n % 3 == 0 else "holder",
            start_date=start + timedelta(days=n % 40),
            allocation_id=seed * 100 + i,
            holder_is_advanced_practitioner=n % 2 == 0,
        ))
    return tuple(items)


def _diary(
    start: date, as_of: date, programme_end: date, fte: float
) -> tuple[ProtectedTimeEntry, ...]:
    """A protected day a fortnight (pro rata: less often part-time) for the whole
    programme, booked at the start: taken when past, one in six cancelled (every other
    one rebooked), one in seventeen displaced."""
    stride = timedelta(days=round(14 / fte))
    entries = []
    day, index = start + timedelta(days=9), 0
    while day < programme_end:
        while day.weekday() >= 5:
            day += timedelta(days=1)
        status = "booked"
        cancelled_on = None
        rebooked = False
        if day < as_of:
            status = "taken"
            if index % 6 == 5:
                status, cancelled_on = "cancelled", day - timedelta(days=2)
                rebooked = index % 12 == 5
            elif index % 17 == 16:
                status, cancelled_on = "displaced", day
        entries.append(ProtectedTimeEntry(day=day, hours=7.4, status=status,
                                          cancelled_on=cancelled_on, rebooked=rebooked,
                                          entry_id=index + 1))
        day += stride
        index += 1
    return tuple(entries)


def _supervision(start: date, as_of: date) -> tuple[SupervisionRecord, ...]:
    """Weekly for six weeks, fortnightly to month 6, monthly after; one in nine cancelled."""
    sessions = []
    day, index = start + timedelta(days=4), 0
    month_6 = add_months(start, 6)
    while day < as_of:
        kind = ("reflective", "case", "joint_with_ap")[index % 3]
        sessions.append(SupervisionRecord(day=day, kind=kind, cancelled=index % 9 == 8))
        step = 7 if day < start + timedelta(weeks=6) else (14 if day < month_6 else 30)
        day += timedelta(days=step)
        index += 1
    return tuple(sessions)


def snapshot_at(stage: Stage, seed: int, holidays_: frozenset[date]) -> Snapshot:
    """NQSW number `seed` at `stage`: a realistic record, everything a rule may read."""
    start = date(2026, 1, 5) + timedelta(days=7 * seed)
    pauses = (PauseSpan(add_months(start, 7), add_months(start, 7) + timedelta(days=20),
                        "health"),) if stage.paused else ()
    shift = timedelta(days=21) if stage.paused else timedelta(0)
    as_of = add_months(start, stage.months) + timedelta(days=stage.days) + shift
    length = 12 if stage.programme == "asye" else 24
    end = add_months(start, length) + shift
    reviews = tuple(
        ReviewRecord(month=m, held_on=add_months(start, m) + timedelta(days=3))
        for m in (3, 6, 9, 12, 18) if add_months(start, m) + timedelta(days=3) < as_of
    )
    sign_offs = (
        (SignOffRecord("child_protection", add_months(start, 6)),) if stage.signed_off else ()
    )
    fte = (1.0, 0.8, 0.6)[seed % 3]
    return Snapshot(
        staff_id=seed,
        enrolment_id=seed,
        programme=stage.programme,  # type: ignore[arg-type]
        programme_start=start,
        as_of=as_of,
        fte=fte,
        contracted_hours=37.0 * fte,
        team_id=1 + seed % 4,
        pauses=pauses,
        sign_offs=sign_offs,
        caseload=_caseload(start, seed),
        benchmark_load=80.0 if seed % 2 else None,
        protected_time=_diary(start, as_of, end, fte),
        supervision=_supervision(start, as_of),
        reviews=reviews,
        bank_holidays=holidays_,
    )


def timings(calls: list[Callable[[], Any]], iterations: int) -> list[int]:
    """Nanoseconds per call, cycling through `calls`, each timed on its own (GC paused)."""
    for index in range(max(len(calls) * 20, iterations // 10)):
        calls[index % len(calls)]()
    clock = time.perf_counter_ns
    samples = [0] * iterations
    gc.collect()
    gc.disable()
    try:
        for index in range(iterations):
            call = calls[index % len(calls)]
            started = clock()
            call()
            samples[index] = clock() - started
    finally:
        gc.enable()
    return samples


def summary(samples: list[int]) -> dict[str, float]:
    """Median and 95th percentile, in milliseconds."""
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered) / 1e6, 4),
        "p95_ms": round(ordered[max(int(len(ordered) * 0.95) - 1, 0)] / 1e6, 4),
    }


def _bind(snapshot: Snapshot, policy_set: PolicySet) -> Callable[[], Any]:
    return lambda: evaluate(snapshot, policy_set)


OVERALL = "overall (every call pooled)"


def _active_words(policy_set: PolicySet) -> str:
    """Which policies active.toml applies: once when both programmes have the same."""
    lists = {p: ", ".join(ids) or "none" for p, ids in sorted(policy_set.active.items())}
    if len(set(lists.values())) == 1:
        return f"{' and '.join(lists)}: {next(iter(lists.values()))}"
    return "; ".join(f"{p}: {ids}" for p, ids in lists.items())


def run(iterations: int, policy_dir: Path = POLICY_DIR) -> dict[str, Any]:
    """The report: scalar facts, then `results` (one row per stage, and the overall row)."""
    policy_set = load_policy_set(policy_dir)
    holidays_ = bank_holidays(2025, 2031)
    results: dict[str, dict[str, Any]] = {}
    pooled: list[int] = []
    for stage in STAGES:
        snapshots = [snapshot_at(stage, seed, holidays_) for seed in range(NQSWS_PER_STAGE)]
        samples = timings([_bind(s, policy_set) for s in snapshots], iterations)
        pooled.extend(samples)
        findings = evaluate(snapshots[0], policy_set)
        results[stage.label] = {
            **summary(samples),
            "rules": len(findings),
            "breaches": sum(1 for f in findings if f.is_breach),
        }
    overall = summary(pooled)
    results[OVERALL] = {**overall, "rules": None, "breaches": None}
    return {
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "active_policies": _active_words(policy_set),
        "allocations": ALLOCATIONS,
        "iterations_per_stage": iterations,
        "median_ms": overall["median_ms"],
        "p95_ms": overall["p95_ms"],
        "target_ms": TARGET_MS,
        "within_target": overall["median_ms"] < TARGET_MS,
        "results": results,
    }


def table(report: dict[str, Any]) -> str:
    """The report as a Markdown table, ready for docs/benchmarks.md."""
    lines = [
        "Engine benchmark: evaluate() under the shipped active policies "
        f"({report['active_policies']}); {report['allocations']} allocations, diary and "
        f"supervision; Python {report['python']} on {report['machine']}, "
        f"{report['iterations_per_stage']} calls per stage",
        "",
        f"| {'stage':<40} | rules | breaches | median ms | p95 ms |",
        f"| {'-' * 40} | ----: | -------: | --------: | -----: |",
    ]
    for label, stats in report["results"].items():
        rules = "" if stats["rules"] is None else stats["rules"]
        breaches = "" if stats["breaches"] is None else stats["breaches"]
        lines.append(
            f"| {label:<40} | {rules:>5} | {breaches:>8} | "
            f"{stats['median_ms']:>9.3f} | {stats['p95_ms']:>6.3f} |"
        )
    verdict = "within" if report["within_target"] else "OVER"
    lines += ["", f"Median {report['median_ms']:.3f} ms: {verdict} the "
              f"{report['target_ms']:g} ms target."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--iterations", type=int, default=5_000,
                        help="timed calls per stage (default 5000)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if args.iterations < 1:
        parser.error("--iterations must be at least 1")
    report = run(args.iterations)
    print(json.dumps(report, indent=2) if args.json else table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
