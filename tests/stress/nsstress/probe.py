# SPDX-License-Identifier: MIT
"""The fresh client (a new TLS connection + one GET per sample) measuring the server's latency
while a scenario attacks it, and the bookkeeping shared by every scenario."""
import asyncio
import time

from . import proto
from .conn import TlsConn


def percentile(values, p):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


class Probe:
    """Every `interval` s: connect, handshake, GET /index.html, close; latency in ms."""

    def __init__(self, port, interval=0.05, timeout=5.0):
        self.port, self.interval, self.timeout = port, interval, timeout
        self.latencies = []
        self.errors = []
        self._task = None

    async def _one(self):
        start = time.monotonic()
        conn = await TlsConn.open(self.port)
        try:
            status, _, _ = await proto.request(conn, "/index.html")
            if status != 200:
                raise RuntimeError(f"status {status}")
        finally:
            conn.close()
        return (time.monotonic() - start) * 1000.0

    async def _run(self):
        while True:
            try:
                self.latencies.append(await asyncio.wait_for(self._one(), self.timeout))
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - every failure is a figure
                self.errors.append(repr(e))
            await asyncio.sleep(self.interval)

    def start(self):
        self._task = asyncio.ensure_future(self._run())

    async def stop(self):
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass

    def figures(self):
        return {"probe_samples": len(self.latencies), "probe_errors": len(self.errors),
                "probe_p50_ms": _r(percentile(self.latencies, 50)),
                "probe_p99_ms": _r(percentile(self.latencies, 99)),
                "probe_max_ms": _r(max(self.latencies) if self.latencies else None)}


def _r(v):
    return None if v is None else round(v, 1)


class Result:
    """Figures (name → number) and failed pass criteria of one scenario run."""

    def __init__(self, name):
        self.name = name
        self.figures = {}
        self.failures = []
        self.notes = []

    def check(self, ok, what):
        if not ok:
            self.failures.append(what)
        return ok

    def sample(self, server, label):
        """RSS, peak RSS and open descriptors of the server, under `label`."""
        self.figures[f"rss_kib_{label}"] = server.rss_kib()
        self.figures[f"hwm_kib_{label}"] = server.hwm_kib()
        self.figures[f"fds_{label}"] = server.fd_count()


async def gather_limited(factories, limit):
    """Runs coroutine factories with at most `limit` in flight; returns the results/exceptions."""
    sem = asyncio.Semaphore(limit)

    async def run(f):
        async with sem:
            try:
                return await f()
            except Exception as e:  # noqa: BLE001
                return e

    return await asyncio.gather(*(run(f) for f in factories))


def count_errors(results, result, label, keep=5):
    errs = [r for r in results if isinstance(r, BaseException)]
    result.figures[f"errors_{label}"] = len(errs)
    kinds = {}
    for e in errs:
        kinds[repr(e)[:120]] = kinds.get(repr(e)[:120], 0) + 1
    for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])[:keep]:
        result.notes.append(f"{label}: {v} x {k}")
    return len(errs)
