"""A request-rate limit shared by every process of a run (Snakemake jobs, CLI calls).

NCBI allows 3 E-utilities requests per second per IP address without an API key and 10
with one; a run that exceeds it is blocked (HTTP 429) and, if it keeps at it, the IP is
banned. Biopython's limiter lives inside one process, so two Snakemake jobs each sending
3/s send 6/s together. Here the schedule lives in a small state file: each request takes
the next free slot under an exclusive ``flock`` and sleeps until it, so slots are spaced
by ``1/rate`` however many processes draw from the same file.

``flock`` is advisory and POSIX-only; it holds between processes on one machine (it is
not reliable across the nodes of a cluster on NFS: see README "Running live").
"""

from __future__ import annotations

import fcntl
import os
import struct
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["NCBI_RATE", "NCBI_RATE_WITH_KEY", "RateLimiter", "ncbi_rate"]

NCBI_RATE = 3.0
NCBI_RATE_WITH_KEY = 10.0
# Slots are spaced a little wider than 1/rate: the server measures arrival times, and a
# request sent a few milliseconds late followed by one sent on time must still not put
# rate+1 requests into one second. 8% (27 ms at 3/s) absorbs scheduling and network jitter
# while keeping the achieved rate above 90% of the allowed one (benchmarks/fetch.py).
DEFAULT_MARGIN = 0.08
_STATE = struct.Struct("<d")


def ncbi_rate(api_key: str | None) -> float:
    """Requests per second NCBI allows (E-utilities usage guidelines)."""
    return NCBI_RATE_WITH_KEY if api_key else NCBI_RATE


class RateLimiter:
    """At most ``rate`` acquisitions per second across every process using ``path``.

    ``clock`` must be wall time shared by processes (``time.time``); ``sleep`` is injectable
    so tests can observe the schedule without waiting for it.
    """

    def __init__(
        self,
        path: str | Path,
        rate: float,
        *,
        margin: float = DEFAULT_MARGIN,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.path = Path(path)
        self.rate = rate
        self.interval = (1.0 + margin) / rate
        self._clock = clock
        self._sleep = sleep
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def reserve(self) -> float:
        """Take the next free slot and return its time (no waiting)."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            raw = os.pread(fd, _STATE.size, 0)
            next_free = _STATE.unpack(raw)[0] if len(raw) == _STATE.size else 0.0
            now = self._clock()
            if next_free > now + 60 * self.interval + 60:
                # The wall clock went backwards (or the file is from a broken clock): start over
                # rather than stall every process for the difference.
                next_free = now
            slot = max(now, next_free)
            os.pwrite(fd, _STATE.pack(slot + self.interval), 0)
            return slot
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def acquire(self) -> float:
        """Wait for this process's next slot; return the time it was granted."""
        slot = self.reserve()
        delay = slot - self._clock()
        if delay > 0:
            self._sleep(delay)
        return slot
