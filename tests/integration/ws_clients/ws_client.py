#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""WebSocket client checks against network_server, with the `websockets` package.

Usage: ws_client.py MODE PORT [--path P] [--compression on|off] [--clients N]
  echo       text and binary echo from 0 B to 16 MiB, a fragmented send, ping/pong, close 1000
  broadcast  N clients on a chat path; several senders; every client must receive every
             message exactly once and in order per sender
  hold       N clients each exchange one compressible message, print "HELD N", then wait
             until the file given by --until exists (memory measurement), and close
Prints "OK <mode>" and exits 0 on success; prints the failure and exits 1 otherwise.
The server's certificate is self-signed: verification is off.
"""
import argparse
import asyncio
import os
import ssl
import sys

import websockets


def tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def payload(n, text):
    if text:
        return "".join(chr(ord("a") + (i * 7 + i // 13) % 26) for i in range(min(n, 4096))) * (n // 4096 + 1)
    return bytes((i * 131 + (i >> 8)) & 0xFF for i in range(min(n, 65536))) * (n // 65536 + 1)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


async def connect(args, path=None):
    uri = f"wss://127.0.0.1:{args.port}{path or args.path}"
    return await websockets.connect(
        uri,
        ssl=tls_context(),
        compression="deflate" if args.compression == "on" else None,
        max_size=None,
        ping_interval=None,
        open_timeout=30,
        close_timeout=10,
    )


async def echo(args):
    ws = await connect(args)
    agreed = ws.response_headers.get("Sec-WebSocket-Extensions", "")
    check(("permessage-deflate" in agreed) == (args.compression == "on"), f"extensions: {agreed!r}")
    for text in (True, False):
        for n in (0, 1, 125, 126, 65535, 65536, 1 << 20, 16 << 20):
            p = payload(n, text)[:n]
            await ws.send(p)
            got = await asyncio.wait_for(ws.recv(), 60)
            check(type(got) is type(p), f"type of echo of {n} bytes (text={text})")
            check(got == p, f"echo of {n} bytes (text={text}) differs")
    # A message sent in fragments comes back whole.
    await ws.send(["frag", "mented ", "message"])
    got = await asyncio.wait_for(ws.recv(), 10)
    check(got == "fragmented message", f"fragmented: {got!r}")
    await ws.send([b"\x00\x01", b"\x02"])
    got = await asyncio.wait_for(ws.recv(), 10)
    check(got == b"\x00\x01\x02", f"fragmented binary: {got!r}")
    # Ping → pong.
    waiter = await ws.ping(b"are you there")
    await asyncio.wait_for(waiter, 10)
    await ws.close(1000, "done")
    check(ws.close_code == 1000, f"close code {ws.close_code}")
    print("OK echo", "compression" if args.compression == "on" else "plain", flush=True)


async def broadcast(args):
    n = args.clients
    senders = 4
    per_sender = 20
    conns = [await connect(args) for _ in range(n)]
    await asyncio.sleep(0.2)  # every client has been added to the chat list by the server
    for j in range(per_sender):
        for k in range(senders):
            await conns[k].send(f"sender {k} message {j} " + "x" * 200)

    async def receive(i, ws):
        nxt = [0] * senders
        for _ in range(senders * per_sender):
            msg = await asyncio.wait_for(ws.recv(), 60)
            parts = msg.split(" ")
            k, j = int(parts[1]), int(parts[3])
            check(j == nxt[k], f"client {i}: sender {k} message {j}, expected {nxt[k]}")
            nxt[k] += 1

    await asyncio.gather(*(receive(i, ws) for i, ws in enumerate(conns)))
    # Nothing more arrives: every message exactly once.
    for i, ws in enumerate(conns):
        try:
            extra = await asyncio.wait_for(ws.recv(), 0.05)
            raise AssertionError(f"client {i}: unexpected extra message {extra[:40]!r}")
        except asyncio.TimeoutError:
            pass
    await asyncio.gather(*(ws.close() for ws in conns))
    print("OK broadcast", n, flush=True)


async def hold(args):
    conns = []
    msg = ("network_server memory probe " * 80)[:2000]
    for i in range(args.clients):
        ws = await connect(args)
        await ws.send(msg)
        got = await asyncio.wait_for(ws.recv(), 30)
        check(got == msg, f"client {i}: echo differs")
        conns.append(ws)
    print("HELD", len(conns), flush=True)
    while not os.path.exists(args.until):
        await asyncio.sleep(0.05)
    await asyncio.gather(*(ws.close() for ws in conns))
    print("OK hold", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["echo", "broadcast", "hold"])
    ap.add_argument("port", type=int)
    ap.add_argument("--path", default="/echo")
    ap.add_argument("--compression", choices=["on", "off"], default="off")
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--until", default="")
    args = ap.parse_args()
    try:
        asyncio.run({"echo": echo, "broadcast": broadcast, "hold": hold}[args.mode](args))
    except Exception as e:  # one line for the test log
        print(f"FAIL {args.mode}: {type(e).__name__}: {e}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
