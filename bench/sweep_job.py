"""A full sweep of the organisation in a process of its own, as the daily job runs it.

Prints JSON: wall-clock seconds, the process's peak resident memory (getrusage), and the
sweep's own report. Run by `bench.run`; usable alone:
`python -m bench.sweep_job DATABASE_URL YYYY-MM-DD`.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import date


def main() -> None:
    url, as_of = sys.argv[1], date.fromisoformat(sys.argv[2])
    from app.db import make_engine
    from app.policy.registry import load_policy_set
    from app.services.sweep import run_sweep
    from app.settings import get_settings

    engine = make_engine(url)
    policies = load_policy_set(get_settings().policy_dir)
    before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    report = run_sweep(engine, as_of=as_of, policies=policies)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    engine.dispose()
    json.dump({"seconds": round(seconds, 2), "peak_rss_mb": round(peak_mb, 1),
               "rss_before_mb": round(before_mb, 1),
               "report": {k: str(v) for k, v in report.as_dict().items()}}, sys.stdout)


if __name__ == "__main__":
    main()
