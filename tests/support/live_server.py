"""A real uvicorn server in a child process, for tests that need one.

Concurrency and browser tests must talk to the service over a socket, exactly as a
user's browser or an integration would, against a database the test owns.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.settings import PROJECT_ROOT


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    database_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def live_server(
    database_url: str,
    data_dir: Path,
    *,
    workers: int = 1,
    env: dict[str, str] | None = None,
    ready_timeout: float = 60.0,
) -> Iterator[LiveServer]:
    """Start `ringfence serve` on a free port against `database_url`; stop it afterwards."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / f"server-{port}.log"
    child_env = {
        **os.environ,
        "RINGFENCE_DATABASE_URL": database_url,
        "RINGFENCE_DATA_DIR": str(data_dir),
        "RINGFENCE_SCHEDULER_ENABLED": "false",
        "RINGFENCE_BASE_URL": f"http://127.0.0.1:{port}",
        **(env or {}),
    }
    command = [
        sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--log-level", "warning",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=child_env, stdout=log, stderr=subprocess.STDOUT
        )
    server = LiveServer(f"http://127.0.0.1:{port}", database_url, process, log_path)
    try:
        _wait_until_healthy(server, ready_timeout)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_until_healthy(server: LiveServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.log()}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not become healthy in {timeout}s:\n{server.log()}")
