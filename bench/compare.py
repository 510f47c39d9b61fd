"""`python -m bench.compare REV`: this working tree against an earlier revision, in one run.

Why: `make bench` figures move by several per cent from one day (or machine load) to
the next, so a restructuring cannot be judged against last week's table. This measures
both trees now, interleaved, on the same machine: the `small` demo organisation in an
SQLite file, the app in-process behind Starlette's test client (so the figures include
its overhead, the same for both), and the process CPU time per request of the hot read
paths, median of `--rounds` rounds of `--requests` requests each. The earlier tree is a
`git worktree` under a temporary directory, removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Run inside each tree's own interpreter process, with that tree first on sys.path.
PROBE = r'''
import json, os, statistics, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, os.getcwd())
from fastapi.testclient import TestClient
from app.main import create_app
from app.migrate import upgrade
from app.settings import Settings

rounds, requests = int(sys.argv[1]), int(sys.argv[2])
data = tempfile.mkdtemp()
url = f"sqlite:///{data}/compare.db"
upgrade(url)
os.environ.update(RINGFENCE_DATABASE_URL=url, RINGFENCE_DATA_DIR=data)
sys.argv = ["ringfence", "demo"]
from app.cli import main
try:
    main()
except SystemExit:
    pass
app = create_app(Settings(database_url=url, data_dir=Path(data), scheduler_enabled=False))
client = TestClient(app)
token = client.post("/api/v1/auth/token", data={
    "username": "demo-team-manager@ringfence.example", "password": "ringfence-demo"}).json()
headers = {"Authorization": f"Bearer {token['access_token']}"}
nqsw = client.get("/api/v1/nqsws", headers=headers).json()["data"][0]["id"]
case = client.get("/api/v1/cases", headers=headers, params={"limit": 5}).json()["data"][0]["id"]
check = {"case_id": case, "worker_id": nqsw, "role": "co_worker"}
paths = {
    "GET /healthz": lambda: client.get("/healthz"),
    "POST /allocations/check": lambda: client.post("/api/v1/allocations/check",
                                                   headers=headers, json=check),
    "GET /nqsws/{id}/workload": lambda: client.get(f"/api/v1/nqsws/{nqsw}/workload",
                                                   headers=headers),
    "GET /breaches": lambda: client.get("/api/v1/breaches", headers=headers),
}
result = {}
for name, call in paths.items():
    assert call().status_code == 200, name
    for _ in range(20):
        call()
    per_round = []
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(requests):
            call()
        per_round.append((time.process_time() - started) * 1000 / requests)
    result[name] = statistics.median(per_round)
print(json.dumps(result))
'''


def _measure(tree: Path, rounds: int, requests: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(rounds), str(requests)], cwd=tree, check=True,
        capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"},
    ).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revision", help="the earlier revision to compare with")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        earlier = Path(tmp) / "earlier"
        subprocess.run(["git", "worktree", "add", "--detach", str(earlier), args.revision],
                       cwd=ROOT, check=True, capture_output=True)
        try:
            before = _measure(earlier, args.rounds, args.requests)
            after = _measure(ROOT, args.rounds, args.requests)
            again = _measure(earlier, args.rounds, args.requests)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(earlier)], cwd=ROOT,
                           check=False, capture_output=True)
    print(f"CPU ms per request, median of {args.rounds} rounds of {args.requests}; the "
          f"earlier tree is measured before and after this one, and the spread of those two "
          f"is the noise a difference must exceed:")
    print(f"{'path':<28} {'earlier':>8} {'this tree':>10} {'again':>8} {'ratio':>7} "
          f"{'noise':>7}")
    for name in before:
        base = (before[name] + again[name]) / 2
        noise = abs(before[name] - again[name]) / base
        print(f"{name:<28} {before[name]:>8.2f} {after[name]:>10.2f} {again[name]:>8.2f} "
              f"{after[name] / base:>6.2f}x {noise:>6.0%}")


if __name__ == "__main__":
    main()
