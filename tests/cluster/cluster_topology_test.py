#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""examples/cluster/run.sh at small scale: the example itself is what is tested.

The script starts redis-server, three ns_serve instances (--redis, --proxy-protocol v2) and
HAProxy (TCP mode, TLS passthrough, send-proxy-v2, health checks, leastconn) on free loopback
ports. CLIENTS WSS clients (default 300) join /ws/chat?room=cluster through HAProxy from
127.0.0.2 (so their address differs from HAProxy's 127.0.0.1), and then:

1. spread: every instance has clients (its access log names them);
2. publishers on every instance: every client receives every message exactly once, in order;
3. kill -9 of one instance: its clients reconnect through HAProxy and receive again within
   5 s; the others lose nothing and are not disconnected;
4. redis-server stopped for 5 s and started again (the script's SIGUSR1 / SIGUSR2): local
   delivery never stops; cross-instance delivery resumes (within 2 s of Redis answering);
   afterwards every client receives every message again;
5. the access logs show each client connection's own address and source port, never
   HAProxy's; the script stops everything by pid on SIGTERM.

usage: cluster_topology_test.py NS_SERVE SOURCE_DIR [--clients N]
Exit 0: passed; 77: skipped (a program or python3-websockets missing); 1: failed.
"""
import argparse
import asyncio
import ctypes
import os
import queue
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time

try:
    import websockets  # Debian: python3-websockets (ci/install-deps.sh)
except ImportError:  # the test command installs it: missing is a failure, not a skip
    print("FAILED: python3 module 'websockets' is not installed (ci/install-deps.sh)")
    sys.exit(1)

CLIENT_ADDR = "127.0.0.2"  # HAProxy connects from 127.0.0.1: the logs must name this one
ROOM = "cluster"
RECONNECT_LIMIT = 5.0  # issue 19 §4
RESUME_LIMIT = 2.0  # issue 19 §2: cross-instance delivery within 2 s of Redis coming back
LOG_LINE = re.compile(
    r'^(\S+) - - \[[^\]]*\] "GET /ws/chat\?room=' + ROOM + r' HTTP/1\.1" (\d+) \d+ "[^"]*" "[^"]*" (\S+)$'
)


class Failed(Exception):
    pass


def expect(ok, what):
    """A check that holds under python -O too."""
    if not ok:
        raise Failed(what)


def _term_with_parent():
    """SIGTERM to run.sh if this process dies (a ctest timeout kills it with SIGKILL): the
    script then stops what it started instead of leaving it running."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Cluster:
    """examples/cluster/run.sh as a child; its stdout lines are read by a thread."""

    def __init__(self, script, ns_serve, work):
        self.work = work
        self.proc = subprocess.Popen(
            ["bash", script, "--ns-serve", ns_serve, "--dir", work],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            preexec_fn=_term_with_parent)
        self.lines = queue.Queue()
        self.output = []
        threading.Thread(target=self._read, daemon=True).start()
        self.env = {}

    def _read(self):
        for line in self.proc.stdout:
            self.output.append(line)
            self.lines.put((time.monotonic(), line))

    def wait_line(self, needle, timeout):
        """The monotonic time the script printed a line containing needle."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                at, line = self.lines.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                break
            if needle in line:
                return at
        raise Failed(f"run.sh did not say {needle!r} within {timeout} s")

    def read_env(self):
        with open(os.path.join(self.work, "cluster.env")) as f:
            self.env = dict(line.strip().split("=", 1) for line in f if "=" in line)
        return self.env

    def pids(self):
        e = self.env
        return [int(p) for p in (e.get("NS_PIDS", "").split() + [e.get("HAPROXY_PID", ""),
                                                                e.get("REDIS_PID", "")]) if p]

    def stop(self):
        """SIGTERM to the script, which stops what it started; returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            for pid in self.pids():  # the script hung: its children, by pid, then itself
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.kill()
            self.proc.wait()
            return None

    def numsub(self):
        out = subprocess.run(["redis-cli", "-p", self.env["REDIS_PORT"], "PUBSUB", "NUMSUB",
                              "ns:chat/" + ROOM], capture_output=True, text=True, timeout=5)
        parts = out.stdout.split()
        return int(parts[-1]) if len(parts) == 2 else -1

    def connections_by_instance(self):
        """{instance number: [(address, port, status)]} of the chat upgrades each logged."""
        out = {}
        for i in range(1, len(self.env["NS_PORTS"].split()) + 1):
            rows = out.setdefault(i, [])
            try:
                with open(os.path.join(self.work, f"access-{i}.log")) as f:
                    for line in f:
                        m = LOG_LINE.match(line.rstrip("\n"))
                        if m:
                            rows.append((m.group(1), m.group(3), int(m.group(2))))
            except FileNotFoundError:
                pass
        return out


def tls():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the script's throwaway certificate
    return ctx


TLS = tls()  # one for every connection: a context per connection costs CPU the reconnects need


class Client:
    """One chat member: connects through HAProxy, reads everything, reconnects when dropped."""

    def __init__(self, port, gate):
        self.port, self.gate = port, gate
        self.ws = None
        self.conns = []  # (local port, monotonic time opened)
        self.drops = []  # monotonic times a connection ended
        self.msgs = []  # (monotonic time, connection number from 1, text)
        self.opened = asyncio.Event()
        self.done = False
        self.error = None  # why the last connection attempt failed
        self.task = asyncio.create_task(self._life())

    async def _life(self):
        while not self.done:
            try:
                async with self.gate:
                    ws = await websockets.connect(
                        f"wss://127.0.0.1:{self.port}/ws/chat?room={ROOM}", ssl=TLS,
                        compression="deflate", local_addr=(CLIENT_ADDR, 0), ping_interval=None,
                        open_timeout=15, close_timeout=2, max_size=None)
            except (OSError, asyncio.TimeoutError, websockets.WebSocketException) as e:
                self.error = repr(e)
                await asyncio.sleep(0.05)
                continue
            self.ws = ws
            self.conns.append((str(ws.local_address[1]), time.monotonic()))
            self.opened.set()
            try:
                async for m in ws:
                    self.msgs.append((time.monotonic(), len(self.conns), m))
            except websockets.ConnectionClosed:
                pass
            self.ws = None
            if not self.done:
                self.drops.append(time.monotonic())

    def received(self, tag):
        """[(time, connection, seq)] of the messages "tag:seq"."""
        p = tag + ":"
        return [(t, c, int(m[len(p):])) for t, c, m in self.msgs if m.startswith(p)]

    async def close(self):
        self.done = True
        if self.ws is not None:
            await self.ws.close()
        await asyncio.wait_for(self.task, 10)


async def publish(client, tag, count, interval, sent=None):
    """Sends "tag:0" … "tag:count-1"; records each send time in sent."""
    for n in range(count):
        if sent is not None:
            sent.append(time.monotonic())
        await client.ws.send(f"{tag}:{n}")
        await asyncio.sleep(interval)


async def until(pred, limit, what):
    end = time.monotonic() + limit
    while not pred():
        if time.monotonic() > end:
            raise Failed(f"{what} (not within {limit} s)")
        await asyncio.sleep(0.05)


def instance_of(cluster, clients):
    """{client: instance} from the access logs (each connection's source port)."""
    where = {}
    for i, rows in cluster.connections_by_instance().items():
        for addr, port, status in rows:
            where[(addr, port)] = i
    return {c: where.get((CLIENT_ADDR, c.conns[-1][0])) for c in clients}


def check_all_received(clients, tags, count):
    for c in clients:
        for tag in tags:
            got = [s for _, _, s in c.received(tag)]
            expect(got == list(range(count)),
                   f"client {c.conns[-1][0]}: {tag} gave {got[:20]}… ({len(got)}), not 0..{count - 1}")


async def scenario(cluster, n_clients):
    report = {}
    env = cluster.env
    hp = int(env["HAPROXY_PORT"])
    gate = asyncio.Semaphore(24)  # handshakes in flight: the ASan build on two busy cores
    t0 = time.monotonic()
    clients = [Client(hp, gate) for _ in range(n_clients)]
    try:
        await asyncio.wait_for(asyncio.gather(*(c.opened.wait() for c in clients)), 60)
    except asyncio.TimeoutError:
        errors = {c.error for c in clients if not c.opened.is_set()}
        raise Failed(f"{sum(c.opened.is_set() for c in clients)} of {n_clients} clients connected "
                     f"within 60 s; errors: {sorted(errors)[:3]}")
    report["connect"] = f"{n_clients} clients connected in {time.monotonic() - t0:.1f} s"
    await until(lambda: cluster.numsub() == 3, 10, "every instance subscribed the room's channel")
    try:
        await until(lambda: None not in instance_of(cluster, clients).values(), 5, "")
    except Failed:
        rows = [r for v in cluster.connections_by_instance().values() for r in v]
        raise Failed(f"the access logs do not name the clients ({CLIENT_ADDR} and their ports): "
                     f"{len(rows)} upgrades logged, e.g. {rows[:3]}")

    # 1. Spread over the three instances.
    where = instance_of(cluster, clients)
    per = {i: [c for c in clients if where[c] == i] for i in (1, 2, 3)}
    report["spread"] = "clients per instance: " + ", ".join(f"#{i} {len(v)}" for i, v in per.items())
    for i, members in per.items():
        expect(len(members) >= n_clients // 5, f"instance {i} has {len(members)} clients: {report['spread']}")

    # 2. Two publishers on every instance, 15 messages each.
    pubs = {f"a{i}{k}": per[i][k] for i in (1, 2, 3) for k in (0, 1)}
    count = 15
    await asyncio.gather(*(publish(c, tag, count, 0.03) for tag, c in pubs.items()))
    await until(lambda: all(sum(len(c.received(t)) for t in pubs) >= len(pubs) * count for c in clients),
                20, "every client received every message of the six publishers")
    await asyncio.sleep(0.3)  # a duplicate would come now
    check_all_received(clients, pubs, count)
    delivered = n_clients * len(pubs) * count
    report["messages"] = (f"{len(pubs)} publishers x {count} messages, {delivered} deliveries, "
                          "each exactly once and in order")

    # 3. kill -9 of instance 1 while instance 2 publishes a tick every 100 ms.
    victims, survivors = per[1], per[2] + per[3]
    ticker, sent = per[2][0], []
    ticking = asyncio.create_task(publish(ticker, "b", 80, 0.1, sent))
    await until(lambda: len(sent) >= 5, 5, "ticks")
    killed_pid = int(env["NS_PIDS"].split()[0])
    t_kill = time.monotonic()
    os.kill(killed_pid, signal.SIGKILL)

    def back(c):
        return len(c.conns) >= 2 and any(conn == 2 for _, conn, _ in c.received("b"))

    await until(lambda: all(back(c) for c in victims), RECONNECT_LIMIT + 3,
                "every client of the killed instance back and receiving")
    await ticking
    reconnect = max(c.conns[1][1] - t_kill for c in victims)
    first_tick = max(next(t for t, conn, _ in c.received("b") if conn == 2) - t_kill for c in victims)
    report["kill"] = (f"kill -9 of instance 1 ({len(victims)} clients): reconnected through HAProxy "
                      f"within {reconnect:.2f} s, receiving again within {first_tick:.2f} s (max)")
    expect(first_tick <= RECONNECT_LIMIT, report["kill"])
    await until(lambda: all(len(c.received("b")) >= 80 for c in survivors), 10, "survivors' ticks")
    await asyncio.sleep(0.3)
    for c in survivors:
        expect(len(c.conns) == 1 and not c.drops, f"client {c.conns[0][0]} of a survivor was dropped")
    check_all_received(survivors, ["b"], 80)
    for c in victims:  # after its reconnection: every tick from the first, in order
        seq = [s for _, conn, s in c.received("b") if conn == 2]
        expect(seq == list(range(seq[0], 80)), f"victim {c.conns[1][0]}: ticks {seq}")
    where = instance_of(cluster, clients)
    expect(all(where[c] in (2, 3) for c in victims), f"victims now on {set(where[c] for c in victims)}")
    await until(lambda: cluster.numsub() == 2, 5, "two instances subscribed")

    # 4. Redis stopped for 5 s: publishers on instances 2 and 3 send every 100 ms throughout.
    per = {i: [c for c in clients if where[c] == i] for i in (2, 3)}
    tags = {2: "c2", 3: "c3"}
    sent = {2: [], 3: []}
    n_ticks = 110
    ticking = [asyncio.create_task(publish(per[i][0], tags[i], n_ticks, 0.1, sent[i])) for i in (2, 3)]
    await asyncio.sleep(1)
    cluster.proc.send_signal(signal.SIGUSR1)
    t_stop = cluster.wait_line("redis-server stopped", 10)
    await asyncio.sleep(max(0.0, t_stop + 5 - time.monotonic()))
    cluster.proc.send_signal(signal.SIGUSR2)
    t_start = cluster.wait_line("redis-server started again", 15)
    await asyncio.gather(*ticking)
    await until(lambda: all(len(c.received(tags[i])) >= n_ticks for i in (2, 3) for c in per[i]), 10,
                "local delivery of every tick")
    await asyncio.sleep(0.3)
    for i in (2, 3):  # local: never interrupted
        check_all_received(per[i], [tags[i]], n_ticks)
    resume = []
    for i, j in ((2, 3), (3, 2)):  # remote: at most once, in order; resumed after the restart
        after = next((n for n, t in enumerate(sent[j]) if t >= t_start), None)
        for c in per[i]:
            got = c.received(tags[j])
            seq = [s for _, _, s in got]
            expect(seq == sorted(set(seq)), f"client {c.conns[-1][0]}: {tags[j]} {seq} repeats or reorders")
            first = next((t for t, _, s in got if after is not None and s >= after), None)
            expect(first is not None, f"client {c.conns[-1][0]}: nothing from instance {j} after Redis came back")
            resume.append(first - t_start)
    lost = sum(n_ticks - len(c.received(tags[j])) for i, j in ((2, 3), (3, 2)) for c in per[i])
    report["redis"] = (f"Redis stopped {t_start - t_stop:.1f} s: local delivery complete; "
                       f"cross-instance resumed {max(resume):.2f} s after Redis answered (max); "
                       f"{lost} cross-instance deliveries lost during the outage (at most once)")
    expect(max(resume) <= RESUME_LIMIT, report["redis"])

    # Everyone again, from every live instance.
    await until(lambda: cluster.numsub() == 2, 5, "both instances subscribed again")
    final = {f"d{i}": per[i][1] for i in (2, 3)}
    await asyncio.gather(*(publish(c, tag, 10, 0.03) for tag, c in final.items()))
    await until(lambda: all(sum(len(c.received(t)) for t in final) >= 20 for c in clients), 10,
                "every client received the last messages")
    await asyncio.sleep(0.3)
    check_all_received(clients, final, 10)

    # 5. The access logs: each connection's own address and port, in exactly one log.
    await asyncio.sleep(0.5)  # the access log writer flushes every 200 ms
    rows = [r for v in cluster.connections_by_instance().values() for r in v]
    ours = sorted((CLIENT_ADDR, port) for c in clients for port, _ in c.conns)
    logged = sorted((addr, port) for addr, port, status in rows if status == 101)
    expect(logged == ours, f"access log: {len(logged)} upgrades logged, {len(ours)} made; "
                           f"e.g. {sorted(set(logged) ^ set(ours))[:5]}")
    expect(all(addr == CLIENT_ADDR for addr, _, _ in rows), "an upgrade logged with HAProxy's address")
    report["log"] = (f"access logs: {len(logged)} upgrades, each with its client's own address "
                     f"{CLIENT_ADDR} and source port, none with HAProxy's")
    await asyncio.wait_for(asyncio.gather(*(c.close() for c in clients)), 20)
    return report


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ns_serve")
    ap.add_argument("source_dir")
    ap.add_argument("--clients", type=int, default=300)
    args = ap.parse_args()
    for tool in ("redis-server", "redis-cli", "haproxy", "openssl"):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            print(f"FAILED: {tool} is not installed (ci/install-deps.sh)")
            return 1
    work = tempfile.mkdtemp(prefix="ns-cluster-test.")
    cluster = Cluster(os.path.join(args.source_dir, "examples/cluster/run.sh"), args.ns_serve, work)
    status, report = 1, {}
    started = time.monotonic()
    try:
        cluster.wait_line("cluster ready:", 60)
        cluster.read_env()
        print(f"run.sh: cluster ready in {time.monotonic() - started:.1f} s", flush=True)
        report = asyncio.run(scenario(cluster, args.clients))
        status = 0
    except Failed as e:
        print(f"FAILED: {e}")
    finally:
        pids = cluster.pids()
        rc = cluster.stop()
        alive = [p for p in pids if os.path.exists(f"/proc/{p}") and
                 not open(f"/proc/{p}/stat").read().split()[2] == "Z"]
        if rc not in (130, 143) or alive:
            print(f"FAILED: run.sh exit status {rc}, still running after it: {alive}")
            status = 1
        for name in sorted(os.listdir(work)):  # the instances' stderr (ASan/UBSan builds)
            if name.startswith("ns_serve-") and name.endswith(".err"):
                with open(os.path.join(work, name), errors="replace") as f:
                    text = f.read()
                if "Sanitizer" in text or "runtime error:" in text:
                    print(f"FAILED: a sanitizer report in {name}:\n{text[-3000:]}")
                    status = 1
        for line in report.values():
            print(line)
        if status != 0:
            print("run.sh said:\n" + "".join(cluster.output))
            for name in sorted(os.listdir(work)):
                if name.endswith((".err", ".out", ".log")) and not name.startswith("access"):
                    with open(os.path.join(work, name), errors="replace") as f:
                        print(f"--- {name} (tail)\n" + "".join(f.readlines()[-15:]))
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'OK' if status == 0 else 'FAILED'} cluster topology ({time.monotonic() - started:.1f} s)")
    return status


if __name__ == "__main__":
    sys.exit(main())
