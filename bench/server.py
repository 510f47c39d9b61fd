"""The server under test: uvicorn with one worker in its own process, watched for memory.

The same command an operator runs (`uvicorn app.main:create_app --factory`), on a free
loopback port, with the background scheduler's timer off so that nothing but the
benchmark's requests runs during a measurement; the daily sweep is then run where it
runs in production, inside this process, through `POST /api/v1/breaches/sweep`.

Memory is read two ways: a sampler thread records the process tree's resident memory
every 100 ms (faster while `watch` is active), and `hwm_mb` reads the kernel's own
high-water mark (`VmHWM`), which no sample can miss. `cpu_seconds` is the process
tree's CPU time, so a phase's server cost per request can be computed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from app.settings import PROJECT_ROOT
from bench.memory import own_peak_mb


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    samples_mb: list[float] = field(default_factory=list)

    def rss_mb(self) -> float:
        """Resident memory of the server process and its children, now."""
        try:
            proc = psutil.Process(self.process.pid)
            procs = [proc, *proc.children(recursive=True)]
            return sum(p.memory_info().rss for p in procs) / 2**20
        except psutil.Error:
            return 0.0

    @property
    def peak_mb(self) -> float:
        return max(self.samples_mb, default=0.0)

    def _tree(self) -> list[psutil.Process]:
        proc = psutil.Process(self.process.pid)
        return [proc, *proc.children(recursive=True)]

    def hwm_mb(self) -> float | None:
        """The kernel's peak resident memory of the server's processes since they started
        (`VmHWM`: exact, unlike sampling; None where /proc is not available)."""
        try:
            peaks = [own_peak_mb(p.pid) for p in self._tree()]
        except psutil.Error:
            return None
        if not peaks or any(p is None for p in peaks):
            return None
        return sum(p for p in peaks if p is not None)

    def cpu_seconds(self) -> float:
        """User and system CPU time of the server's processes so far."""
        try:
            times = [p.cpu_times() for p in self._tree()]
        except psutil.Error:
            return 0.0
        return sum(t.user + t.system for t in times)

    @contextmanager
    def watch(self, interval: float = 0.01) -> Iterator[list[float]]:
        """Resident memory sampled every `interval` seconds while the block runs (also
        added to the run's samples, so the overall peak includes it)."""
        samples: list[float] = [self.rss_mb()]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(interval):
                samples.append(self.rss_mb())

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        try:
            yield samples
        finally:
            stop.set()
            thread.join(5)
            samples.append(self.rss_mb())
            self.samples_mb.extend(samples)


@contextmanager
def run_server(database_url: str, data_dir: Path, *, policy_dir: Path | None = None,
               ready_timeout: float = 120.0) -> Iterator[Server]:
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / f"server-{port}.log"
    env = {
        **os.environ,
        "RINGFENCE_DATABASE_URL": database_url,
        "RINGFENCE_DATA_DIR": str(data_dir),
        "RINGFENCE_SCHEDULER_ENABLED": "false",
        "RINGFENCE_BASE_URL": f"http://127.0.0.1:{port}",
    }
    if policy_dir is not None:
        env["RINGFENCE_POLICY_DIR"] = str(policy_dir)
    command = [
        sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--log-level", "warning", "--no-access-log",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", process, log_path)
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.1):
            server.samples_mb.append(server.rss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    try:
        _wait_until_healthy(server, ready_timeout)
        sampler.start()
        yield server
    finally:
        stop.set()
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_until_healthy(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.log_path.read_text()}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server not healthy in {timeout}s:\n{server.log_path.read_text()}")
