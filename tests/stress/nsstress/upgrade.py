# SPDX-License-Identifier: MIT
"""Scenario `upgrade` (issue 20 §3): zero-downtime upgrades under continuous load.

While HTTPS keep-alive clients request back to back (wrk-like), a client opens a fresh
connection every few ms, `wss` WebSocket clients (TLS 1.3, no deflate) each echo a numbered
message every 20 ms and check every byte, `deflate_wss` clients do the same with
permessage-deflate context takeover (which cannot move), and one client downloads a file of
`download_bytes`: `upgrades` successive `kill -USR2`, the last to a binary that fails to start.

ns_serve runs with `--upgrade-binary` pointing at a wrapper script that execs the binary under
test; before the last upgrade the script is replaced by one that exits 1, so that upgrade must
fail and the process keep serving. The runner is a child subreaper (prctl), so every old process
— the first's child, grandchild, … — is reaped here and its exit status read.

Pass: no failed or refused HTTP request; no WebSocket of the movable kind closed or missing a
reply, none lost or duplicated; every deflate WebSocket closed by the old process is closed with
1001 (its client reconnects); the download byte-exact; every old process exited 0 and said it
held no socket but the hand-over channel; the failing upgrade was refused and the server kept
serving. Figures: those counts, connections moved, each old process's descriptors at exit, and
the keep-alive p99 latency during the upgrades against a baseline window of the same length
without one."""
import asyncio
import ctypes
import hashlib
import os
import re
import signal
import stat
import struct
import time

from . import proto
from .conn import Closed, TlsConn
from .probe import Result, percentile

PR_SET_CHILD_SUBREAPER = 36


def server_args(cfg):
    """Extra ns_serve arguments: the wrapper as upgrade binary, a short drain."""
    wrapper = os.path.join(cfg["rundir"], "upgrade-binary.sh")
    _write_wrapper(wrapper, f'exec {cfg["server_binary"]} "$@"')
    cfg["wrapper"] = wrapper
    return ["--upgrade-binary", wrapper, "--drain-timeout", str(cfg["drain_timeout"]),
            "--status-path", "/status"]


def _write_wrapper(path, command):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("#!/bin/sh\n" + command + "\n")
    os.chmod(tmp, stat.S_IRWXU)
    os.replace(tmp, path)  # never a half-written script


class _Adopted:
    """A process reparented to us (subreaper): enough of Popen for Server.stop/alive."""

    def __init__(self, pid):
        self.pid, self.returncode = pid, None

    def poll(self):
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def send_signal(self, sig):
        os.kill(self.pid, sig)

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                import subprocess
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.02)
        return self.returncode

    def kill(self):
        os.kill(self.pid, signal.SIGKILL)


class _Stats:
    def __init__(self):
        self.http_ok = self.http_failed = self.reconnects = 0
        self.latencies = []  # (monotonic time, seconds) of keep-alive requests
        self.fresh_ok = self.fresh_failed = 0
        self.ws_messages = self.ws_lost = self.ws_wrong = self.ws_closed = 0
        self.deflate_closes = {}
        self.errors = []


async def _keepalive(port, stop, st):
    conn = None
    while not stop.is_set():
        try:
            if conn is None:
                conn = await TlsConn.open(port)
            t0 = time.monotonic()
            await conn.send(proto.get("/index.html"))
            status, headers, _ = await asyncio.wait_for(proto.read_response(conn), 30)
            st.latencies.append((t0, time.monotonic() - t0))
            if status != 200:
                raise RuntimeError(f"status {status}")
            st.http_ok += 1
            if headers.get("connection", "").lower() == "close":
                conn.close()  # the old process drains it: not a failure, reconnect
                conn, st.reconnects = None, st.reconnects + 1
        except Exception as e:  # noqa: BLE001 - counted
            st.http_failed += 1
            st.errors.append(f"keep-alive: {e!r}")
            if conn is not None:
                conn.close()
            conn = None
            await asyncio.sleep(0.05)
    if conn is not None:
        conn.close()


async def _fresh(port, stop, st, interval):
    while not stop.is_set():
        try:
            conn = await TlsConn.open(port)
            try:
                status, _, _ = await asyncio.wait_for(proto.request(conn, "/index.html",
                                                                    close=True), 30)
            finally:
                conn.close()
            if status != 200:
                raise RuntimeError(f"status {status}")
            st.fresh_ok += 1
        except Exception as e:  # noqa: BLE001 - counted
            st.fresh_failed += 1
            st.errors.append(f"fresh connection: {e!r}")
        await asyncio.sleep(interval)


async def _wss(port, stop, st, ident, deflate):
    """Numbered echoes every 20 ms; the reply must be exactly the message sent."""
    seq = 0
    while not stop.is_set():
        conn = await TlsConn.open(port)
        try:
            await proto.ws_open(conn, "/ws/echo", deflate=deflate)
            while not stop.is_set():
                msg = struct.pack(">IQ", ident, seq) + os.urandom(16).hex().encode()
                await conn.send(proto.frame(2, proto.deflate(msg) if deflate else msg,
                                            rsv=4 if deflate else 0))
                try:
                    _, data = await asyncio.wait_for(proto.read_message(conn), 30)
                except Closed as e:
                    found = re.search(r"close frame (\d+)", str(e))
                    code = int(found.group(1)) if found else str(e)
                    if deflate:  # drained by the old process: reconnect
                        st.deflate_closes[code] = st.deflate_closes.get(code, 0) + 1
                        break
                    st.ws_closed += 1
                    st.errors.append(f"wss {ident}: closed ({code}) at message {seq}")
                    return
                if data != msg:
                    got = struct.unpack(">IQ", data[:12]) if len(data) >= 12 else data
                    st.ws_wrong += 1
                    st.errors.append(f"wss {ident}: sent #{seq}, got {got}")
                st.ws_messages += 1
                seq += 1
                await asyncio.sleep(0.02)
            else:
                await conn.send(proto.close_frame(1000))
                await asyncio.wait_for(proto.expect_close(conn), 10)
                return
        except Exception as e:  # noqa: BLE001 - a movable one must never end like this
            if not deflate:
                st.ws_lost += 1
                st.errors.append(f"wss {ident}: {e!r} at message {seq}")
            else:
                st.errors.append(f"deflate wss {ident}: {e!r}")
                st.deflate_closes["error"] = st.deflate_closes.get("error", 0) + 1
        finally:
            conn.close()
        if not deflate:
            return  # a movable WebSocket lost is counted once, not reconnected


async def _download(port, path, size, digest, out):
    conn = await TlsConn.open(port)
    try:
        await conn.send(proto.get(path))
        head = await conn.read_until(b"\r\n\r\n", limit=64 * 1024)
        if b" 200 " not in head.split(b"\r\n")[0]:
            raise RuntimeError(f"download: {head[:40]!r}")
        h = hashlib.sha256()
        left = size
        while left > 0:
            if not conn.buf:
                await conn.recv_some()
            chunk = conn.buf[:left]
            h.update(chunk)
            del conn.buf[:len(chunk)]
            left -= len(chunk)
        out["exact"] = h.hexdigest() == digest
    finally:
        conn.close()


def _make_download(root, size):
    path = os.path.join(root, "upgrade.bin")
    h = hashlib.sha256()
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            piece = block[:min(left, len(block))]
            f.write(piece)
            h.update(piece)
            left -= len(piece)
    return "/upgrade.bin", h.hexdigest()


def _stderr(server):
    with open(server.stderr_path, errors="replace") as f:
        return f.read()


async def _upgrade_once(server, pid, expect_ok, timeout=60.0):
    """SIGUSR2 to `pid`; returns (new pid or None, old exit status, old's exit line)."""
    before = _stderr(server)
    os.kill(pid, signal.SIGUSR2)
    deadline = time.monotonic() + timeout
    key = "upgrade failed, still serving" if not expect_ok else "accepts on the listeners now"
    while time.monotonic() < deadline:
        text = _stderr(server)[len(before):]
        if key in text:
            break
        await asyncio.sleep(0.05)
    else:
        return None, None, f"no '{key}' within {timeout} s"
    if not expect_ok:
        return None, None, text.strip().splitlines()[-1]
    new = int(re.search(r"SIGUSR2: pid (\d+) accepts", text).group(1))
    old = server.proc if server.proc.pid == pid else _Adopted(pid)
    while old.poll() is None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    text = _stderr(server)[len(before):]
    m = re.search(r"drained; exiting with (\d+) descriptor\(s\) open, (\d+) socket\(s\)", text)
    return new, old.poll(), (int(m.group(1)), int(m.group(2))) if m else None


def _p99_ms(latencies, t_from, t_to):
    v = [d for t, d in latencies if t_from <= t < t_to]
    return (round(1000 * percentile(v, 99), 1) if v else None), len(v)


async def run(server, cfg):
    res = Result("upgrade")
    libc = ctypes.CDLL(None, use_errno=True)
    res.check(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0, "prctl(SUBREAPER) failed")
    root = server.args[server.args.index("--root") + 1]
    dl_path, dl_digest = _make_download(root, cfg["download_bytes"])
    port = server.port
    st = _Stats()
    stop = asyncio.Event()
    tasks = [asyncio.ensure_future(_keepalive(port, stop, st)) for _ in range(cfg["keepalive"])]
    tasks.append(asyncio.ensure_future(_fresh(port, stop, st, cfg["fresh_interval"])))
    tasks += [asyncio.ensure_future(_wss(port, stop, st, i, False)) for i in range(cfg["wss"])]
    tasks += [asyncio.ensure_future(_wss(port, stop, st, 10_000 + i, True))
              for i in range(cfg["deflate_wss"])]
    download = {"exact": False}
    dl_task = asyncio.ensure_future(_download(port, dl_path, cfg["download_bytes"], dl_digest,
                                              download))
    # Baseline window: the same load, no upgrade.
    await asyncio.sleep(1.0)
    base_from = time.monotonic()
    await asyncio.sleep(cfg["window"])
    base_to = up_from = time.monotonic()
    pid = server.proc.pid
    exits, fds, moved = [], [], []
    for i in range(cfg["upgrades"]):
        last = i == cfg["upgrades"] - 1
        if last:
            _write_wrapper(cfg["wrapper"], "exit 1")
        new, status, info = await _upgrade_once(server, pid, not last)
        if last:
            res.check(new is None and info and "check-config failed" in info,
                      f"the last upgrade should fail: {info}")
            res.figures["failed_upgrade_log"] = info
            break
        if new is None:
            res.check(False, f"upgrade {i + 1}: {info}")
            break
        exits.append(status)
        fds.append(info)
        pid = new
        await asyncio.sleep(cfg["between"])
    up_to = time.monotonic()
    if up_to - up_from < cfg["window"]:
        await asyncio.sleep(cfg["window"] - (up_to - up_from))
        up_to = time.monotonic()
    # The process serving now (reparented to us) is the one run_scenario stops.
    if pid != server.proc.pid:
        server.proc = _Adopted(pid)
    try:
        await asyncio.wait_for(dl_task, cfg["download_timeout"])
    except Exception as e:  # noqa: BLE001
        st.errors.append(f"download: {e!r}")
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    status_conn = await TlsConn.open(port)
    await status_conn.send(proto.get("/status", close=True))
    _, _, body = await proto.read_response(status_conn, keep_body=True)
    status_conn.close()
    m = re.search(rb'"moved_connections": \{"out": \d+, "in": (\d+)', body)
    base_p99, base_n = _p99_ms(st.latencies, base_from, base_to)
    up_p99, up_n = _p99_ms(st.latencies, up_from, up_to)
    res.figures.update({
        "upgrades_done": len(exits), "old_exit_statuses": exits,
        "old_fds_at_exit": [f[0] if f else None for f in fds],
        "old_sockets_at_exit": [f[1] if f else None for f in fds],
        "http_ok": st.http_ok, "http_failed": st.http_failed, "keepalive_reconnects": st.reconnects,
        "fresh_ok": st.fresh_ok, "fresh_failed": st.fresh_failed,
        "ws_messages": st.ws_messages, "ws_closed": st.ws_closed, "ws_lost": st.ws_lost,
        "ws_wrong": st.ws_wrong, "deflate_ws_closes": st.deflate_closes,
        "download_exact": download["exact"], "download_bytes": cfg["download_bytes"],
        "moved_in_last_process": int(m.group(1)) if m else None,
        "p99_ms_baseline": base_p99, "requests_baseline": base_n,
        "p99_ms_upgrades": up_p99, "requests_upgrades": up_n,
    })
    res.notes += st.errors[:8]
    res.check(len(exits) == cfg["upgrades"] - 1, f"{len(exits)} upgrades done")
    res.check(all(s == 0 for s in exits), f"old processes' exit statuses {exits}")
    res.check(all(f is not None and f[1] <= 1 for f in fds),
              f"old processes' (descriptors, sockets) at exit {fds}: want ≤ 1 socket (the "
              "hand-over channel)")
    res.check(st.http_failed == 0 and st.fresh_failed == 0,
              f"{st.http_failed} keep-alive and {st.fresh_failed} fresh requests failed")
    res.check(st.http_ok > 0 and st.fresh_ok > 0 and st.ws_messages > 0, "no traffic went through")
    res.check(st.ws_closed == 0 and st.ws_lost == 0 and st.ws_wrong == 0,
              f"movable WebSockets: {st.ws_closed} closed, {st.ws_lost} lost, "
              f"{st.ws_wrong} wrong echoes")
    res.check(set(st.deflate_closes) <= {1001},
              f"deflate WebSockets closed with {st.deflate_closes} (want 1001 only)")
    res.check(download["exact"], "the download was not byte-exact")
    return res
