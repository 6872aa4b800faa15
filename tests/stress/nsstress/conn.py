# SPDX-License-Identifier: MIT
"""An asyncio TLS client over OpenSSL memory BIOs: the generator decides every byte that goes
on the wire, so it can stop (or reset) mid ClientHello, mid request, mid response, mid frame."""
import asyncio
import socket
import ssl
import struct

_CTX = None


def client_context():
    """TLS 1.2+ client context trusting anything (the server's certificate is throwaway)."""
    global _CTX
    if _CTX is None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(["http/1.1"])
        _CTX = ctx
    return _CTX


class Closed(Exception):
    """The server closed the connection (FIN, reset or TLS close_notify)."""


async def tcp_connect(port, rcvbuf=0):
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    try:
        await loop.sock_connect(sock, ("127.0.0.1", port))
    except BaseException:
        sock.close()
        raise
    return sock


def reset(sock):
    """Abort with RST: SO_LINGER {on, 0} then close (RFC 9293 §3.6 abort)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class TlsConn:
    """One TLS connection. `buf` holds decrypted bytes received but not consumed yet."""

    def __init__(self, sock):
        self.sock = sock
        self.loop = asyncio.get_running_loop()
        self.inc = ssl.MemoryBIO()
        self.out = ssl.MemoryBIO()
        self.ssl = client_context().wrap_bio(self.inc, self.out, server_hostname="localhost")
        self.buf = bytearray()
        self.eof = False

    @classmethod
    async def open(cls, port, rcvbuf=0, handshake=True):
        conn = cls(await tcp_connect(port, rcvbuf))
        if handshake:
            try:
                await conn.handshake()
            except BaseException:
                conn.close()
                raise
        return conn

    def client_hello(self):
        """The ClientHello bytes, without sending them (for partial-handshake clients)."""
        try:
            self.ssl.do_handshake()
        except ssl.SSLWantReadError:
            pass
        return self.out.read()

    async def flush(self):
        data = self.out.read()
        if data:
            await self.loop.sock_sendall(self.sock, data)

    async def fill(self):
        """Reads ciphertext from the socket into the incoming BIO; False at EOF."""
        try:
            data = await self.loop.sock_recv(self.sock, 65536)
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        if not data:
            self.inc.write_eof()
            return False
        self.inc.write(data)
        return True

    async def handshake(self):
        while True:
            try:
                self.ssl.do_handshake()
                await self.flush()
                return
            except ssl.SSLWantReadError:
                await self.flush()
                if not await self.fill():
                    raise Closed("closed during the handshake")

    async def send(self, data):
        self.ssl.write(data)
        await self.flush()

    async def recv_some(self):
        """Appends at least one decrypted byte to `buf`; raises Closed at the end of stream."""
        if self.eof:
            raise Closed("end of stream")
        while True:
            try:
                data = self.ssl.read(65536)
                if not data:
                    self.eof = True
                    raise Closed("close_notify")
                self.buf += data
                return
            except ssl.SSLWantReadError:
                await self.flush()  # post-handshake messages (tickets) need no answer
                if not await self.fill():
                    self.eof = True
                    raise Closed("TCP end of stream")
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                self.eof = True
                raise Closed("TLS end of stream")

    async def read_exactly(self, n):
        while len(self.buf) < n:
            await self.recv_some()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    async def read_until(self, sep, limit=1 << 20):
        while True:
            i = self.buf.find(sep)
            if i >= 0:
                data = bytes(self.buf[:i + len(sep)])
                del self.buf[:i + len(sep)]
                return data
            if len(self.buf) > limit:
                raise ValueError("line too long")
            await self.recv_some()

    async def drain_to_eof(self, limit=1 << 24):
        """Reads and discards until the server closes; returns the number of bytes seen."""
        total = len(self.buf)
        self.buf.clear()
        try:
            while total < limit:
                await self.recv_some()
                total += len(self.buf)
                self.buf.clear()
        except Closed:
            return total
        raise ValueError("server kept sending")

    def reset(self):
        reset(self.sock)

    def close(self):
        self.sock.close()
