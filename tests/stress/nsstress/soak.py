# SPDX-License-Identifier: MIT
"""Scenario 5, churn soak: for `seconds`, HTTPS workers (new connection, 1–5 GETs of random
files, close — sometimes with 'Connection: close', sometimes by reset) and WSS workers (new
connection to /ws/echo or /ws/chat, with or without permessage-deflate, 1–10 messages checked
byte for byte, close handshake) run continuously. RSS is sampled every second.
Pass: no client error or wrong echo; fds back to the baseline; with rss_checks (release build:
ASan's quarantine makes RSS meaningless) and a run of 3 minutes or more, RSS at the end within
10 % of RSS after the first minute (shorter runs only report the growth after their first third)."""
import asyncio
import os
import random
import time

from . import proto
from .conn import TlsConn
from .probe import Result, count_errors

FILES = {"/index.html": 200, "/mid.bin": 200, "/big.bin": 200, "/missing": 404}


async def _http_worker(port, stop, rng, stats):
    while not stop.is_set():
        conn = await TlsConn.open(port)
        try:
            k = rng.randint(1, 5)
            for i in range(k):
                path = rng.choice(list(FILES))
                if path == "/big.bin" and rng.random() < 0.8:
                    path = "/mid.bin"  # keep the big streams a minority
                status, _, _ = await asyncio.wait_for(
                    proto.request(conn, path, close=(i == k - 1 and rng.random() < 0.5)), 60)
                if status != FILES[path]:
                    raise RuntimeError(f"{path}: status {status}")
                stats["http"] += 1
        finally:
            conn.reset() if rng.random() < 0.2 else conn.close()


async def _ws_worker(port, stop, rng, stats):
    while not stop.is_set():
        conn = await TlsConn.open(port)
        try:
            path = rng.choice(["/ws/echo", "/ws/echo", "/ws/chat"])
            await proto.ws_open(conn, path, deflate=rng.random() < 0.5)
            for _ in range(rng.randint(1, 10)):
                text = rng.random() < 0.5
                msg = os.urandom(rng.choice([1, 100, 5000, 70000]))
                if text:
                    msg = msg.hex().encode()
                await conn.send(proto.frame(1 if text else 2, msg))
                while True:  # on /ws/chat other workers' messages may arrive first
                    op, data = await asyncio.wait_for(proto.read_message(conn), 60)
                    if path == "/ws/echo" or data == msg:
                        break
                if data != msg or op != (1 if text else 2):
                    stats["wrong"] += 1
                stats["ws"] += 1
            await conn.send(proto.close_frame(1000))
            code = await asyncio.wait_for(proto.expect_close(conn), 30)
            if code != 1000:
                raise RuntimeError(f"close code {code}")
        finally:
            conn.close()


async def _guard(worker, port, stop, seed, stats):
    rng = random.Random(seed)
    while not stop.is_set():
        try:
            await worker(port, stop, rng, stats)
        except Exception as e:  # noqa: BLE001 - counted; the worker goes on
            stats["errors"].append(f"{worker.__name__}: {e!r}")
            await asyncio.sleep(0.1)


async def run(server, cfg):
    res = Result("soak")
    seconds = cfg["seconds"]
    first = 60 if seconds >= 180 else seconds / 3
    await proto_warm(server.port)
    baseline = server.wait_fds(0, 2)
    res.sample(server, "start")
    stop = asyncio.Event()
    stats = {"http": 0, "ws": 0, "wrong": 0, "errors": []}
    tasks = [asyncio.ensure_future(_guard(_http_worker, server.port, stop, i, stats))
             for i in range(cfg["http_workers"])]
    tasks += [asyncio.ensure_future(_guard(_ws_worker, server.port, stop, 1000 + i, stats))
              for i in range(cfg["ws_workers"])]
    t0 = time.monotonic()
    samples = []
    rss_first = None
    while time.monotonic() - t0 < seconds:
        await asyncio.sleep(1)
        samples.append(server.rss_kib())
        if rss_first is None and time.monotonic() - t0 >= first:
            rss_first = samples[-1]
            res.figures["fds_at_first"] = server.fd_count()
    rss_last = server.rss_kib()
    stop.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    count_errors(results, res, "workers")
    res.figures.update({"http_requests": stats["http"], "ws_messages": stats["ws"],
                        "wrong_echoes": stats["wrong"], "client_errors": len(stats["errors"]),
                        "rss_kib_first": rss_first, "rss_kib_last": rss_last,
                        "rss_kib_max": max(samples), "rss_kib_min_after_first":
                        min(samples[int(first):] or [rss_last])})
    res.notes += stats["errors"][:5]
    res.check(not stats["errors"], f"{len(stats['errors'])} client errors")
    res.check(stats["wrong"] == 0, f"{stats['wrong']} wrong echoes")
    res.check(stats["http"] > 0 and stats["ws"] > 0, "no traffic went through")
    growth = (rss_last - rss_first) / rss_first
    step = max(1, len(samples) // 10)
    res.figures["rss_kib_trend"] = samples[step - 1::step]
    res.figures["rss_growth_pct"] = round(100 * growth, 1)
    if cfg.get("rss_checks") and seconds >= 180:
        res.check(growth <= 0.10, f"RSS grew {100 * growth:.1f} % after the first minute")
    elif growth > 0.10:  # shorter runs end inside the allocator's warm-up (minutes 1–3)
        res.notes.append(f"RSS grew {100 * growth:.1f} % after the first third (not checked "
                         "in runs shorter than 3 minutes)")
    fds = server.wait_fds(baseline, 30)
    res.sample(server, "end")
    res.check(fds <= baseline, f"fds {fds} after the soak, baseline {baseline}")
    return res


async def proto_warm(port):
    conn = await TlsConn.open(port)
    for path in FILES:
        await proto.request(conn, path)
    conn.close()
