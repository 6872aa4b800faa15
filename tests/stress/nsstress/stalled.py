# SPDX-License-Identifier: MIT
"""Regression scenario (found by this suite): clients that send requests and then never read.
A connection whose response cannot be delivered must not hold its slot, descriptor and
buffers for ever — otherwise `max-connections` such clients lock everyone else out (the
"slow read" attack). Kinds: a GET of the 32 MiB streamed file, a pipeline of 200 GETs of the
cached 200 KiB file, a WebSocket echo client that sends 64 × 256 KiB and reads nothing.
Pass: every one is cut off by the server within `cut_within` s after it stopped reading
(the server runs with --idle-timeout `idle_timeout`); fds back to the baseline."""
import asyncio

from . import proto
from .conn import Closed, TlsConn
from .probe import Result, count_errors


def server_args(cfg):
    return ["--idle-timeout", str(cfg["idle_timeout"])]


async def _stall(port, kind, stalled):
    """Sends the requests, then never reads; returns the connection (closed by the caller)."""
    conn = await TlsConn.open(port, rcvbuf=4096)
    try:
        if kind == "file":
            await conn.send(proto.get("/big.bin"))
        elif kind == "pipeline":
            await conn.send(proto.get("/mid.bin") * 200)
        else:
            await proto.ws_open(conn, "/ws/echo")
            chunk = proto.frame(2, b"x" * (256 * 1024))
            for _ in range(64):  # the echoes pile up in the server's queue
                await asyncio.wait_for(conn.send(chunk), 5)
    except (asyncio.TimeoutError, OSError, Closed):
        pass  # the server stopped reading us: fine, it is what the server sees that counts
    stalled.set()
    return conn


async def run(server, cfg):
    res = Result("stalled")
    warm = await TlsConn.open(server.port)
    for path in ("/index.html", "/mid.bin"):
        await proto.request(warm, path)
    warm.close()
    baseline = server.wait_fds(0, 2)
    res.sample(server, "start")
    n = cfg["per_kind"]
    for kind in ("file", "pipeline", "ws"):
        results = await asyncio.gather(*(_stall(server.port, kind, asyncio.Event())
                                         for _ in range(n)), return_exceptions=True)
        conns = [c for c in results if isinstance(c, TlsConn)]
        count_errors(results, res, kind)
        await asyncio.sleep(cfg["cut_within"])
        # What the server still holds: its descriptors beyond the baseline.
        held = server.fd_count() - baseline
        res.figures[f"{kind}_held_after_{cfg['cut_within']}s"] = held
        res.figures[f"rss_kib_{kind}_stalled"] = server.rss_kib()
        res.check(held <= 0, f"{kind}: the server still holds {held} of {n} connections "
                             f"{cfg['cut_within']} s after they stopped reading "
                             f"(--idle-timeout {cfg['idle_timeout']})")
        for c in conns:
            c.close()
        server.wait_fds(baseline, 30)
    fds = server.wait_fds(baseline, 30)
    res.sample(server, "end")
    res.check(fds <= baseline, f"fds {fds} after the stalled clients left, baseline {baseline}")
    return res
