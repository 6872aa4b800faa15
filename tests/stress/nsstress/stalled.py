# SPDX-License-Identifier: MIT
"""Regression scenario (found by this suite): clients that send requests and then never read.
A connection whose response cannot be delivered must not hold its slot, descriptor and
buffers for ever — otherwise `max-connections` such clients lock everyone else out (the
"slow read" attack). Kinds: a GET of the 32 MiB streamed file, a pipeline of 200 GETs of the
cached 200 KiB file, a WebSocket echo client that sends 64 × 256 KiB and reads nothing.
Pass: every client connected (WebSocket: upgraded) and was seen stalled — the server's socket
to it holding at least STALLED_QUEUE unsent bytes — else the attack did not run as designed;
every one is cut off by the server within `cut_within` s after it stopped reading (the server
runs with --idle-timeout `idle_timeout`); fds back to the baseline."""
import asyncio

from . import proto
from .conn import Closed, TlsConn
from .probe import Result, Sampler, count_errors

# A stalled client's 4 KiB receive buffer (the kernel doubles it) takes a few KiB; a server
# socket with 64 KiB waiting on it is blocked on that peer. Measured (release): 2.8 MB waiting
# on every client of every kind until the cut; an error answer (a few hundred bytes) stays far
# below.
STALLED_QUEUE = 64 * 1024


def server_args(cfg):
    return ["--idle-timeout", str(cfg["idle_timeout"])]


class _QueueWatch(Sampler):
    """The largest kernel send queue the server's socket to each peer port reached while the
    watch ran (sampled on a thread: the server may cut a stalled client before the event loop
    gets round to looking)."""

    def __init__(self, server, interval=0.05):
        self.peak = {}
        self._server = server
        super().__init__(self._update, interval)

    def _update(self):
        for port, queued in self._server.send_queues().items():
            self.peak[port] = max(queued, self.peak.get(port, 0))


async def _stall(port, kind):
    """Connects (and upgrades, for "ws"), sends the requests, then never reads; returns the
    connection (closed by the caller) and its local port. Raises when it cannot connect or
    upgrade."""
    conn = await TlsConn.open(port, rcvbuf=4096)
    local_port = conn.sock.getsockname()[1]
    if kind == "ws":
        try:
            await proto.ws_open(conn, "/ws/echo")
        except BaseException:
            conn.close()
            raise
    try:
        if kind == "file":
            await conn.send(proto.get("/big.bin"))
        elif kind == "pipeline":
            await conn.send(proto.get("/mid.bin") * 200)
        else:
            chunk = proto.frame(2, b"x" * (256 * 1024))
            for _ in range(64):  # the echoes pile up in the server's queue
                await asyncio.wait_for(conn.send(chunk), 5)
    except (asyncio.TimeoutError, OSError, Closed):
        pass  # the server stopped reading us or cut us off: the queue watch says which it was
    return conn, local_port


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
        with _QueueWatch(server) as watch:
            results = await asyncio.gather(*(_stall(server.port, kind) for _ in range(n)),
                                           return_exceptions=True)
            await asyncio.sleep(cfg["cut_within"])
        conns = [r[0] for r in results if isinstance(r, tuple)]
        count_errors(results, res, kind)
        stalled = sum(watch.peak.get(r[1], 0) >= STALLED_QUEUE
                      for r in results if isinstance(r, tuple))
        res.figures[f"{kind}_connected"] = len(conns)
        res.figures[f"{kind}_stalled"] = stalled
        # A client that never connected, or that the server dropped before it had output
        # waiting, proves nothing about cutting stalled readers.
        res.check(len(conns) == n and stalled == n,
                  f"{kind}: the attack did not run as designed: {len(conns)} of {n} clients "
                  f"connected{' and upgraded' if kind == 'ws' else ''}, {stalled} of {n} seen "
                  f"stalled (the server's socket to them holding ≥ {STALLED_QUEUE // 1024} KiB)")
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
