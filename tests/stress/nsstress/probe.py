# SPDX-License-Identifier: MIT
"""The fresh client (a new TLS connection + one GET per sample) measuring the server's latency
while a scenario attacks it, and the bookkeeping shared by every scenario."""
import asyncio
import multiprocessing
import threading
import time

from . import proto
from .conn import TlsConn


def percentile(values, p):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


class Probe:
    """Every `interval` s: connect, handshake, GET /index.html, close; latency in ms.

    Runs in its own process (own event loop, own GIL), so the generator's load does not show
    up as server latency."""

    def __init__(self, port, interval=0.05, timeout=5.0):
        self.port, self.interval, self.timeout = port, interval, timeout
        self.latencies = []
        self.errors = []
        ctx = multiprocessing.get_context("spawn")
        self._stop = ctx.Event()
        self._queue = ctx.Queue()
        self._proc = ctx.Process(target=_probe_main, daemon=True,
                                 args=(port, interval, timeout, self._stop, self._queue))

    def start(self):
        self._proc.start()

    async def stop(self):
        self._stop.set()
        loop = asyncio.get_running_loop()
        self.latencies, self.errors = await loop.run_in_executor(None, self._queue.get, True, 60)
        self._proc.join(10)

    def figures(self, prefix="probe"):
        return {f"{prefix}_samples": len(self.latencies), f"{prefix}_errors": len(self.errors),
                f"{prefix}_p50_ms": _r(percentile(self.latencies, 50)),
                f"{prefix}_p99_ms": _r(percentile(self.latencies, 99)),
                f"{prefix}_max_ms": _r(max(self.latencies) if self.latencies else None)}


async def idle_latency(port, seconds=3.0):
    """The probe's figures with no attack running: the reference for the figures under attack."""
    probe = Probe(port)
    probe.start()
    await asyncio.sleep(seconds)
    await probe.stop()
    return probe.figures("idle")


async def _probe_one(port):
    start = time.monotonic()
    conn = await TlsConn.open(port)
    try:
        status, _, _ = await proto.request(conn, "/index.html")
        if status != 200:
            raise RuntimeError(f"status {status}")
    finally:
        conn.close()
    return (time.monotonic() - start) * 1000.0


async def _probe_loop(port, interval, timeout, stop):
    latencies, errors = [], []
    while not stop.is_set():
        try:
            latencies.append(await asyncio.wait_for(_probe_one(port), timeout))
        except Exception as e:  # noqa: BLE001 - every failure is a figure
            errors.append(repr(e))
        await asyncio.sleep(interval)
    return latencies, errors


def _probe_main(port, interval, timeout, stop, queue):
    queue.put(asyncio.run(_probe_loop(port, interval, timeout, stop)))


def _r(v):
    return None if v is None else round(v, 1)


class Sampler:
    """Calls `sample()` every `interval` s on a thread while the `with` block runs: the event
    loop can be busy for seconds (encrypting, handshaking), longer than what is sampled lasts."""

    def __init__(self, sample, interval):
        self._sample = sample
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self, interval):
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(interval)


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
