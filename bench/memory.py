"""A process's own resident memory as the kernel reports it (Linux /proc).

Why not `resource.getrusage().ru_maxrss`: on Linux a child inherits its parent's
`ru_maxrss` across fork and exec, so a process started by the benchmark runner (which has
just built the `large` organisation) reports the runner's peak, not its own. `VmHWM` is
the high-water mark of the process's current address space only, exact (no sampling can
miss a peak) and free to read.
"""

from __future__ import annotations


def _status_mb(pid: int | str, field: str) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def own_peak_mb(pid: int | str = "self") -> float | None:
    """Peak resident memory of the process since it started (or exec'd), in MB."""
    return _status_mb(pid, "VmHWM:")


def current_rss_mb(pid: int | str = "self") -> float | None:
    """Resident memory of the process now, in MB."""
    return _status_mb(pid, "VmRSS:")
