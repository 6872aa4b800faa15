# SPDX-License-Identifier: MIT
"""HTTP/1.1 and WebSocket (RFC 6455, RFC 7692) wire helpers on top of conn.TlsConn."""
import base64
import os
import struct
import zlib

from .conn import Closed


def get(path, extra=b"", close=False):
    conn_hdr = b"Connection: close\r\n" if close else b""
    return (b"GET " + path.encode() + b" HTTP/1.1\r\nHost: localhost\r\n" + conn_hdr + extra +
            b"\r\n")


async def read_response(conn, keep_body=False):
    """Reads one response; returns (status, headers dict (lower-case names), body or length)."""
    head = await conn.read_until(b"\r\n\r\n", limit=64 * 1024)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if status == 101:
        return status, headers, 0
    length = int(headers.get("content-length", "0"))
    if keep_body:
        return status, headers, await conn.read_exactly(length)
    left = length
    while left > 0:
        if not conn.buf:
            await conn.recv_some()
        n = min(left, len(conn.buf))
        del conn.buf[:n]
        left -= n
    return status, headers, length


async def request(conn, path, close=False):
    await conn.send(get(path, close=close))
    return await read_response(conn)


def upgrade_request(path, deflate=False):
    key = base64.b64encode(os.urandom(16))
    ext = b"Sec-WebSocket-Extensions: permessage-deflate\r\n" if deflate else b""
    return (b"GET " + path.encode() + b" HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key +
            b"\r\nSec-WebSocket-Version: 13\r\n" + ext + b"\r\n")


async def ws_open(conn, path="/ws/echo", deflate=False):
    """Upgrades; returns the response headers. Raises if the answer is not 101."""
    await conn.send(upgrade_request(path, deflate))
    status, headers, _ = await read_response(conn)
    if status != 101:
        raise RuntimeError(f"upgrade to {path} answered {status}")
    return headers


def frame(opcode, payload, fin=True, rsv=0, mask=True, key=None, length=None):
    """A client frame (RFC 6455 §5.2); `length` overrides the encoded payload length."""
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    mbit = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", b0, mbit | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, n)
    if not mask:
        return head + payload
    key = key if key is not None else os.urandom(4)
    masked = bytes(b ^ key[i & 3] for i, b in enumerate(payload)) if len(payload) < 4096 else \
        _mask_fast(payload, key)
    return head + key + masked


def _mask_fast(payload, key):
    n = len(payload)
    k = int.from_bytes((key * ((n + 3) // 4))[:n], "big")
    return (int.from_bytes(payload, "big") ^ k).to_bytes(n, "big")


def close_frame(code, reason=b""):
    return frame(0x8, struct.pack("!H", code) + reason)


async def read_frame(conn):
    """One server frame: (fin, opcode, payload). Server frames are unmasked (§5.1)."""
    b0, b1 = await conn.read_exactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", await conn.read_exactly(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", await conn.read_exactly(8))[0]
    if b1 & 0x80:
        await conn.read_exactly(4)
    return bool(b0 & 0x80), b0 & 0x0F, await conn.read_exactly(n), (b0 >> 4) & 7


async def read_message(conn):
    """A whole data message (pings answered, control frames skipped); returns (opcode, data)."""
    parts, first = [], None
    while True:
        fin, op, payload, rsv = await read_frame(conn)
        if op == 0x9:
            await conn.send(frame(0xA, payload))
            continue
        if op == 0xA:
            continue
        if op == 0x8:
            raise Closed(f"close frame {close_code(payload)}")
        if first is None:
            first = (op, rsv)
        parts.append(payload)
        if fin:
            data = b"".join(parts)
            if first[1] & 4:
                data = inflate(data)
            return first[0], data


def close_code(payload):
    return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005


async def expect_close(conn):
    """Reads until the server's close frame; returns its code (raises Closed if none came)."""
    while True:
        _, op, payload, _ = await read_frame(conn)
        if op == 0x8:
            return close_code(payload)


def deflate(data):
    """permessage-deflate payload (RFC 7692 §7.2.1): raw deflate, trailing 00 00 ff ff cut."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4]


def inflate(data):
    d = zlib.decompressobj(-15)
    return d.decompress(data + b"\x00\x00\xff\xff")
