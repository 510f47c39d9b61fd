"""How long the engine takes to evaluate one NQSW with 30 allocations.

Run: ``.venv/bin/python -m bench.engine_bench`` (``--iterations N``, ``--json``).

Each call is timed on its own with `perf_counter_ns` after a warm-up, and reported as
median and 95th percentile. Two baselines are measured in the same run so that the
figure can be compared across machines: an empty policy set (the engine's own
overhead: the programme lookup) and a trivial Python function call.
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
from datetime import date
from pathlib import Path
from typing import Any

from app.policy.engine import evaluate, workload_measures
from app.policy.policies import PolicySet
from app.policy.registry import load_policy_set
from app.policy.snapshot import (
    AdjustmentRecord,
    CaseLoadItem,
    PauseSpan,
    SignOffRecord,
    Snapshot,
)

POLICY_DIR = Path(__file__).resolve().parent.parent / "policies"
DEFAULT_ACTIVE = ("stage-caps", "complexity-gates", "cp-coworking")
CASELOAD_POLICIES = (*DEFAULT_ACTIVE, "points-scheme", "working-towards-90")
CATEGORIES = (
    "child_in_need", "early_help", "looked_after", "child_protection_plan",
    "care_leaver", "court_work", "care_proceedings", "other",
)


def snapshot_with(allocations: int, *, adjusted: bool = False) -> Snapshot:
    """An NQSW nine months in (after a 3-week pause) holding and co-working a mixed load."""
    start = date(2026, 1, 15)
    caseload = tuple(
        CaseLoadItem(
            case_id=i,
            reference=f"C-{i:05d}",
            category=CATEGORIES[i % len(CATEGORIES)],
            complexity=1 + i % 4,
            role="co_worker" if i % 3 == 0 else "holder",
            start_date=start,
            allocation_id=i,
            holder_is_advanced_practitioner=i % 2 == 0,
        )
        for i in range(1, allocations + 1)
    )
    adjustments = (
        (AdjustmentRecord("stage-caps", "caseload-cap.bands.2.cap", 12, "phased return",
                          start, None, 1),)
        if adjusted else ()
    )
    return Snapshot(
        staff_id=1,
        enrolment_id=1,
        programme="asye",
        programme_start=start,
        as_of=date(2026, 11, 2),
        fte=0.8,
        pauses=(PauseSpan(date(2026, 3, 2), date(2026, 3, 20)),),
        sign_offs=(SignOffRecord("child_protection", date(2026, 8, 3)),),
        adjustments=adjustments,
        caseload=caseload,
        benchmark_load=80.0,
    )


def only(policy_set: PolicySet, ids: tuple[str, ...]) -> PolicySet:
    return PolicySet(
        policy_set.policies,
        {"asye": ids, "swip": ids},
        categories=policy_set.categories,
        kinds=policy_set.kinds,
    )


def timings(call: Callable[[], Any], iterations: int) -> list[int]:
    """Nanoseconds per call, each call timed on its own (GC paused, after a warm-up)."""
    for _ in range(min(iterations // 10, 2_000)):
        call()
    clock = time.perf_counter_ns
    samples = [0] * iterations
    gc.collect()
    gc.disable()
    try:
        for index in range(iterations):
            started = clock()
            call()
            samples[index] = clock() - started
    finally:
        gc.enable()
    return samples


def summary(samples: list[int]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_us": statistics.median(ordered) / 1000,
        "p95_us": ordered[int(len(ordered) * 0.95) - 1] / 1000,
    }


def trivial() -> None:
    return None


def run(iterations: int) -> dict[str, Any]:
    loaded = load_policy_set(POLICY_DIR)
    default = only(loaded, DEFAULT_ACTIVE)
    caseload = only(loaded, CASELOAD_POLICIES)
    empty = only(loaded, ())
    thirty = snapshot_with(30)
    adjusted = snapshot_with(30, adjusted=True)
    proposed = CaseLoadItem(999, "C-00999", "child_in_need", 2, "holder", date(2026, 11, 2))
    cases: dict[str, Callable[[], Any]] = {
        "trivial function call (baseline)": trivial,
        "empty policy set (baseline)": lambda: evaluate(thirty, empty),
        "default policies, 30 allocations": lambda: evaluate(thirty, default),
        "default policies, 30 allocations + proposed case": (
            lambda: evaluate(thirty, default, proposed=proposed)
        ),
        "default policies, 30 allocations, 1 adjustment": lambda: evaluate(adjusted, default),
        "all 5 caseload policies, 30 allocations": lambda: evaluate(thirty, caseload),
        "workload_measures, all 5 caseload policies": lambda: workload_measures(thirty, caseload),
    }
    results = {name: summary(timings(call, iterations)) for name, call in cases.items()}
    headline = results["default policies, 30 allocations"]["median_us"]
    for stats in results.values():
        stats["x_empty_set"] = stats["median_us"] / max(
            results["empty policy set (baseline)"]["median_us"], 1e-9
        )
    return {
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "iterations": iterations,
        "headline_median_us": headline,
        "headline_vs_empty_set": headline / results["empty policy set (baseline)"]["median_us"],
        "headline_vs_trivial_call": headline / results["trivial function call (baseline)"][
            "median_us"
        ],
        "results": results,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20_000)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    report = run(args.iterations)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"Engine benchmark: Python {report['python']} on {report['machine']}, "
          f"{report['iterations']} timed calls each")
    print(f"{'case':<52} {'median us':>10} {'p95 us':>10} {'x empty':>8}")
    for name, stats in report["results"].items():
        print(f"{name:<52} {stats['median_us']:>10.2f} {stats['p95_us']:>10.2f} "
              f"{stats['x_empty_set']:>8.1f}")
    print(
        f"\nMedian for 30 allocations under the default policies: "
        f"{report['headline_median_us']:.1f} us "
        f"({report['headline_median_us'] / 1000:.3f} ms; target < 1 ms), "
        f"{report['headline_vs_empty_set']:.1f}x an empty policy set, "
        f"{report['headline_vs_trivial_call']:.0f}x a trivial function call."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
