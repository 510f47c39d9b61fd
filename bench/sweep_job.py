"""A full sweep of the organisation in a fresh process, as `ringfence sweep` runs it.

This is not where the daily sweep normally runs (that is inside each server worker, see
app/jobs/scheduler.py, and `POST /api/v1/breaches/sweep`, both measured by
`bench.run` on the running server); it is the sweep's cost on its own, with nothing else
in the process: the figure an operator running it from cron would see.

Prints JSON: wall-clock seconds, the process's own peak resident memory and its memory
before the sweep began (imports, engine, policies), and the sweep's report. Peak memory
is the kernel's high-water mark of this process's address space (`VmHWM`), not
`getrusage().ru_maxrss`: on Linux a child inherits its parent's `ru_maxrss` across fork
and exec, so a sweep started by the benchmark runner (which has just built `large`)
would report the runner's peak instead of its own.

Run by `bench.run`; usable alone: `python -m bench.sweep_job DATABASE_URL YYYY-MM-DD`.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date

from bench.memory import current_rss_mb, own_peak_mb


def main() -> None:
    url, as_of = sys.argv[1], date.fromisoformat(sys.argv[2])
    from app.db import make_engine
    from app.jobs.sweep import run_sweep
    from app.policy.registry import load_policy_set
    from app.settings import get_settings

    engine = make_engine(url)
    policies = load_policy_set(get_settings().policy_dir)
    before_mb = current_rss_mb()
    started = time.perf_counter()
    report = run_sweep(engine, as_of=as_of, policies=policies)
    seconds = time.perf_counter() - started
    peak_mb = own_peak_mb()
    engine.dispose()
    json.dump({
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak_mb, 1) if peak_mb is not None else None,
        "rss_before_mb": round(before_mb, 1) if before_mb is not None else None,
        "peak_source": "VmHWM",
        "report": {k: str(v) for k, v in report.as_dict().items()},
    }, sys.stdout)


if __name__ == "__main__":
    main()
