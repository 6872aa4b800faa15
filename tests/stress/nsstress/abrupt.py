# SPDX-License-Identifier: MIT
"""Scenario 2, abrupt clients: connections that reset (SO_LINGER 0 → RST) at a random point:
mid ClientHello, after the ClientHello, mid request, mid response (of a streamed file), mid
WebSocket message (either direction), mid close handshake.
Pass: server alive and answering, fds back to the baseline, no sanitizer report (checked by
the runner)."""
import asyncio
import os
import random

from . import proto
from .conn import TlsConn, reset, tcp_connect
from .probe import Result, count_errors, gather_limited


async def _mid_client_hello(port, rng):
    sock = await tcp_connect(port)
    hello = TlsConn(sock).client_hello()
    await asyncio.get_running_loop().sock_sendall(sock, hello[:rng.randrange(1, len(hello))])
    await asyncio.sleep(rng.random() * 0.05)
    reset(sock)


async def _after_client_hello(port, rng):
    sock = await tcp_connect(port)
    loop = asyncio.get_running_loop()
    await loop.sock_sendall(sock, TlsConn(sock).client_hello())
    if rng.random() < 0.5:
        await asyncio.wait_for(loop.sock_recv(sock, rng.randrange(1, 2000)), 10)
    reset(sock)


async def _mid_request(port, rng):
    conn = await TlsConn.open(port)
    req = proto.get("/index.html", extra=b"X-Pad: " + b"a" * rng.randrange(0, 4000) + b"\r\n")
    await conn.send(req[:rng.randrange(1, len(req))])
    await asyncio.sleep(rng.random() * 0.02)
    conn.reset()


async def _mid_response(port, rng):
    conn = await TlsConn.open(port, rcvbuf=rng.choice([0, 4096]))
    await conn.send(proto.get(rng.choice(["/big.bin", "/mid.bin", "/index.html"])))
    want = rng.randrange(0, 300_000)

    async def read_some():
        got = 0
        while got < want:
            await conn.recv_some()
            got += len(conn.buf)
            conn.buf.clear()

    try:  # a short file may end (keep-alive: no EOF) before `want`; the reset is the point
        await asyncio.wait_for(read_some(), 2)
    except asyncio.TimeoutError:
        pass
    conn.reset()


async def _mid_ws_message(port, rng):
    conn = await TlsConn.open(port)
    await proto.ws_open(conn, rng.choice(["/ws/echo", "/ws/chat"]), deflate=rng.random() < 0.5)
    payload = os.urandom(rng.choice([10, 1000, 70_000, 1 << 20]))
    wire = proto.frame(0x2, payload)
    if rng.random() < 0.5:
        await conn.send(wire[:rng.randrange(1, len(wire))])  # our message cut short
    else:
        await conn.send(wire)  # the echo is cut short
        if rng.random() < 0.5:
            await conn.recv_some()
    conn.reset()


async def _mid_close(port, rng):
    conn = await TlsConn.open(port)
    await proto.ws_open(conn, "/ws/echo")
    wire = proto.close_frame(1000, b"bye")
    if rng.random() < 0.3:
        await conn.send(wire[:rng.randrange(1, len(wire))])
    else:
        await conn.send(wire)
        if rng.random() < 0.5:
            await conn.recv_some()
    conn.reset()


KINDS = {"mid_client_hello": _mid_client_hello, "after_client_hello": _after_client_hello,
         "mid_request": _mid_request, "mid_response": _mid_response,
         "mid_ws_message": _mid_ws_message, "mid_close_handshake": _mid_close}


async def run(server, cfg):
    n = cfg["connections"]
    res = Result("abrupt")
    rng = random.Random(cfg.get("seed", 10))
    # Warm the file cache so cached descriptors are part of the baseline.
    warm = await TlsConn.open(server.port)
    for path in ("/index.html", "/mid.bin", "/big.bin"):
        await proto.request(warm, path)
    warm.close()
    baseline = server.wait_fds(0, 2)
    res.sample(server, "start")
    kinds = list(KINDS)
    plan = [kinds[i % len(kinds)] for i in range(n)]
    rng.shuffle(plan)
    res.figures.update({f"n_{k}": plan.count(k) for k in kinds})

    def factory(kind, seed):
        async def one():
            try:
                return await asyncio.wait_for(KINDS[kind](server.port, random.Random(seed)), 60)
            except Exception as e:  # noqa: BLE001 - name the kind in the figures
                raise RuntimeError(f"{kind}: {e!r}") from e
        return one

    results = await gather_limited([factory(k, i) for i, k in enumerate(plan)],
                                   cfg.get("inflight", 100))
    # A client error here means the server refused or broke something before the reset point.
    errs = count_errors(results, res, "clients")
    res.check(errs <= n // 100, f"{errs} clients failed before their reset point")
    res.sample(server, "after_attack")
    check = await TlsConn.open(server.port)
    status, _, _ = await proto.request(check, "/index.html")
    check.close()
    res.check(status == 200, f"fresh request after the attack answered {status}")
    fds = server.wait_fds(baseline, 30)
    res.sample(server, "end")
    res.check(fds <= baseline, f"fds {fds} after the attack, baseline {baseline}")
    return res
