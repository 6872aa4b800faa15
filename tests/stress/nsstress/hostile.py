# SPDX-License-Identifier: MIT
"""Scenario 4, hostile input at volume: random bytes (raw TCP and inside TLS), oversize request
lines and headers, request-smuggling shapes (RFC 9112 §6.1, §6.3), WebSocket frames with bad
masks/opcodes/reserved bits/lengths (RFC 6455 §5.2, §5.5, §7.4) and deflate bombs (RFC 7692).
Pass: every connection gets its expected status or close code and then the close; a
well-behaved HTTPS and WSS client running meanwhile sees exactly its data; fds back to the
baseline; the server answers afterwards."""
import asyncio
import json
import os
import random

from . import proto
from .conn import Closed, TlsConn, tcp_connect
from .probe import Result, count_errors, gather_limited

# name → (request bytes, accepted statuses); the answer must be followed by the close.
HTTP_CASES = {
    "oversize_header": (b"GET / HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 70000 + b"\r\n\r\n",
                        {431}),
    "oversize_line": (b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", {414}),
    "header_count": (b"GET / HTTP/1.1\r\nHost: x\r\n" +
                     b"".join(b"X-%d: 1\r\n" % i for i in range(200)) + b"\r\n", {431}),
    "cl_and_te": (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", {400}),
    "double_cl": (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"
                  b"hello!", {400}),
    "te_not_chunked_last": (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity"
                            b"\r\n\r\n0\r\n\r\n", {400}),
    "space_before_colon": (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello",
                           {400}),
    "obs_fold": (b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", {400}),
    "bad_chunk_size": (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                       b"zz\r\nhello\r\n0\r\n\r\n", {400}),
    "bare_lf": (b"GET / HTTP/1.1\nHost: x\n\n", {400}),
    "te_in_http10": (b"POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"0\r\n\r\n", {400, 405}),
    "missing_host": (b"GET / HTTP/1.1\r\n\r\n", {400}),
    "huge_content_length": (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n",
                            {413}),
}

# name → (frame bytes or a factory, expected close code, ask for permessage-deflate)
WS_CASES = {
    "ws_unmasked": (proto.frame(2, b"abc", mask=False), 1002, False),
    "ws_bad_opcode": (lambda r: proto.frame(r.choice([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]), b"x"),
                      1002, False),
    "ws_reserved_bits": (lambda r: proto.frame(2, b"abc", rsv=r.choice([1, 2, 3])), 1002, False),
    "ws_rsv1_without_deflate": (proto.frame(2, b"abc", rsv=4), 1002, False),
    "ws_length_msb": (proto.frame(2, b"", length=1 << 63)[:14], 1002, False),
    "ws_long_control": (proto.frame(9, b"a" * 200), 1002, False),
    "ws_fragmented_control": (proto.frame(9, b"a", fin=False), 1002, False),
    "ws_continuation_first": (proto.frame(0, b"abc"), 1002, False),
    "ws_oversize_length": (proto.frame(2, b"", length=1 << 30)[:14], 1009, False),
    "ws_bad_utf8": (proto.frame(1, b"ok\xff\xfe"), 1007, False),
    "ws_bad_close_code": (proto.close_frame(999), 1002, False),
    "ws_deflate_bomb": (None, 1009, True),  # 64 MiB of zeros in ~64 KiB
}

_BOMB = []
HANDSHAKE_TIMEOUT = 30  # seconds


def server_args(cfg):
    # The server's own error counters become figures. The timeouts are raised because this
    # scenario checks the answer to each kind of bad input, not the timeouts (tested on their
    # own): under ASan on 2 busy cores, a handshake of the 300 in flight could otherwise take
    # longer than 10 s and be cut with a bare close instead of its protocol error.
    return ["--status-path", "/_status", "--handshake-timeout", str(HANDSHAKE_TIMEOUT),
            "--header-timeout", str(HANDSHAKE_TIMEOUT)]


def _bomb():
    if not _BOMB:
        _BOMB.append(proto.frame(2, proto.deflate(b"\0" * (64 << 20)), rsv=4))
    return _BOMB[0]


async def _raw_random(port, rng):
    sock = await tcp_connect(port)
    loop = asyncio.get_running_loop()
    try:
        await loop.sock_sendall(sock, rng.randbytes(rng.randrange(1, 4000)))
        # A TLS alert at most, then the end of stream. Random bytes can begin a plausible
        # record (e.g. an SSLv2-style header announcing 30 KiB) that the server waits to
        # complete: those end with the handshake timeout.
        while await asyncio.wait_for(loop.sock_recv(sock, 4096), HANDSHAKE_TIMEOUT + 15):
            pass
    except (ConnectionResetError, BrokenPipeError):
        pass
    finally:
        sock.close()


async def _expect_http(conn, data, statuses):
    await conn.send(data)
    status, _, _ = await asyncio.wait_for(proto.read_response(conn), 15)
    if status not in statuses:
        raise RuntimeError(f"status {status}, want {sorted(statuses)}")
    await asyncio.wait_for(conn.drain_to_eof(), 15)


async def _tls_random(port, rng):
    conn = await TlsConn.open(port)
    try:
        # A byte outside tchar first: never a request line (RFC 9110 §5.6.2, RFC 9112 §3): 400,
        # not 501 (that is for a well-formed line with a method we do not know).
        data = bytes([rng.choice(b"\x00\x01\x7f\x80\xff ({")]) + rng.randbytes(rng.randrange(1, 3000))
        await _expect_http(conn, data + b"\r\n\r\n", {400})
    finally:
        conn.close()


def _http_case(name):
    async def run(port, rng):
        conn = await TlsConn.open(port)
        try:
            await _expect_http(conn, *HTTP_CASES[name])
        finally:
            conn.close()
    return run


def _ws_case(name):
    wire, code, deflate = WS_CASES[name]

    async def run(port, rng):
        conn = await TlsConn.open(port)
        try:
            await proto.ws_open(conn, rng.choice(["/ws/echo", "/ws/chat"]), deflate=deflate)
            data = _bomb() if wire is None else wire(rng) if callable(wire) else wire
            await conn.send(data)
            got = await asyncio.wait_for(proto.expect_close(conn), 15)
            if got != code:
                raise RuntimeError(f"close code {got}, want {code}")
            await asyncio.wait_for(conn.drain_to_eof(), 15)
        finally:
            conn.close()
    return run


KINDS = {"raw_random": _raw_random, "tls_random": _tls_random}
KINDS.update({n: _http_case(n) for n in HTTP_CASES})
KINDS.update({n: _ws_case(n) for n in WS_CASES})


async def _bystanders(port, stop, counts):
    """A well-behaved HTTPS client and a WSS echo client checking every byte they get back."""
    want = await _fetch(port, "/mid.bin")
    while not stop.is_set():
        try:
            ws = await TlsConn.open(port)
            await proto.ws_open(ws, "/ws/echo", deflate=True)
            for _ in range(20):
                msg = os.urandom(random.randrange(1, 20000))
                await ws.send(proto.frame(2, msg))
                op, echo = await asyncio.wait_for(proto.read_message(ws), 15)
                counts["ok"] += 1
                if echo != msg or op != 2:
                    counts["wrong"] += 1
            ws.close()
            if await _fetch(port, "/mid.bin") != want:
                counts["wrong"] += 1
            counts["ok"] += 1
        except Exception as e:  # noqa: BLE001
            counts["errors"].append(repr(e))


async def _fetch(port, path):
    conn = await TlsConn.open(port)
    try:
        await conn.send(proto.get(path))
        status, _, body = await asyncio.wait_for(proto.read_response(conn, keep_body=True), 15)
        return status, body
    finally:
        conn.close()


async def run(server, cfg):
    n = cfg["connections"]
    res = Result("hostile")
    rng = random.Random(cfg.get("seed", 4))
    _bomb()
    await _fetch(server.port, "/index.html")
    baseline = server.wait_fds(0, 2)
    res.sample(server, "start")
    kinds = list(KINDS)
    plan = [kinds[i % len(kinds)] for i in range(n)]
    rng.shuffle(plan)

    def factory(kind, seed):
        async def one():
            try:
                await KINDS[kind](server.port, random.Random(seed))
            except Exception as e:  # noqa: BLE001
                raise RuntimeError(f"{kind}: {e!r}") from e
        return one

    stop = asyncio.Event()
    counts = {"ok": 0, "wrong": 0, "errors": []}
    bystander = asyncio.ensure_future(_bystanders(server.port, stop, counts))
    results = await gather_limited([factory(k, i) for i, k in enumerate(plan)],
                                   cfg.get("inflight", 100))
    stop.set()
    await bystander
    res.figures["kinds"] = len(kinds)
    errs = count_errors(results, res, "hostile")
    res.check(errs == 0, f"{errs} hostile connections did not get their error and close")
    res.figures["bystander_exchanges"] = counts["ok"]
    res.figures["bystander_wrong"] = counts["wrong"]
    res.figures["bystander_errors"] = len(counts["errors"])
    res.notes += counts["errors"][:3]
    res.check(counts["wrong"] == 0 and not counts["errors"] and counts["ok"] > 0,
              "the well-behaved clients were disturbed")
    res.sample(server, "after_attack")
    status, body = await _fetch(server.port, "/_status")
    if status == 200:
        for name, value in json.loads(body).get("errors", {}).items():
            res.figures[f"server_errors_{name}"] = value
    fds = server.wait_fds(baseline, 30)
    res.sample(server, "end")
    res.check(fds <= baseline, f"fds {fds} after the attack, baseline {baseline}")
    return res
