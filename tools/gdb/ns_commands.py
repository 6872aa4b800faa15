# SPDX-License-Identifier: MIT
"""network_server for gdb: the commands nsdebug, ns-loops and ns-connections (docs/debugging.md)."""

import os
import shlex
import subprocess

import gdb

import ns_printers as nsp


def _inodes_to_peers(pid):
    """socket inode -> 'ip:port' of the peer, from /proc/PID/net/tcp{,6} (a live process)."""
    peers = {}
    for name, v6 in (("tcp", False), ("tcp6", True)):
        try:
            with open("/proc/%d/net/%s" % (pid, name)) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) < 10:
                continue
            addr, port = cols[2].split(":")
            raw = bytes.fromhex(addr)
            # The kernel prints each 32-bit word of the address in host (little-endian) order.
            words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            if v6 and words[:12] != b"\0" * 10 + b"\xff\xff":
                host = "[%s]" % ":".join(words[i : i + 2].hex() for i in range(0, 16, 2))
            else:
                host = ".".join(str(b) for b in words[-4:])
            peers[cols[9]] = "%s:%d" % (host, int(port, 16))
    return peers


def _peer(pid, fd, t, peers):
    known = nsp.std_string(t["peer"])
    if known or pid <= 0 or fd < 0:
        return known or "-"
    try:
        link = os.readlink("/proc/%d/fd/%d" % (pid, fd))
    except OSError:
        return "-"
    if not link.startswith("socket:["):
        return link  # a pipe or file adopted as a raw descriptor
    return peers.get(link[len("socket:[") : -1], "-")


class NsLoops(gdb.Command):
    """List the live network_server loops: thread, address, connections.

Usage: ns-loops"""

    def __init__(self):
        super().__init__("ns-loops", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        for n, (entry, impl) in enumerate(nsp.loops()):
            conns = impl["conns_"]
            _, capacity, _ = nsp.vector_items(conns["slots_"])
            _, free, _ = nsp.vector_items(conns["free_"])
            gdb.write("loop %d: impl=%s thread(LWP)=%d listening %s:%d fd=%d connections=%d/%d%s\n"
                      % (n, entry["loop"], int(entry["tid"]),
                         nsp.std_string(impl["config_"]["bind_address"]), int(impl["port_"]),
                         int(impl["listen_fd_"]), capacity - free, capacity,
                         " stopping" if bool(impl["stopping_"]) else ""))


class NsConnections(gdb.Command):
    """List the live connections of every network_server loop.

Usage: ns-connections
One line per connection: loop, slot, handle (as the application sees it), fd, peer, protocol
(http1, websocket, raw, eventfd), the handler's phase (http1: idle / reading / responding;
websocket: open / closing), TLS (plain, handshaking, 'own <version> <cipher>' once our record
layer has the keys, 'OpenSSL <version>' otherwise), bytes queued but not yet sent, and whether
the transport is open, draining (graceful close) or closing."""

    def __init__(self):
        super().__init__("ns-connections", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        inf = gdb.selected_inferior()
        # /proc describes this process only when gdb runs it here (not a core file, not remote).
        native = inf.connection is not None and inf.connection.type == "native"
        pid = inf.pid if native else 0
        peers = _inodes_to_peers(pid) if pid > 0 else {}
        all_loops = nsp.loops()
        fmt = "%-4s %-5s %-18s %-5s %-22s %-9s %-10s %-42s %8s %s\n"
        gdb.write(fmt % ("loop", "slot", "handle", "fd", "peer", "protocol", "phase", "tls",
                         "queued", "state"))
        total = 0
        for n, (_, impl) in enumerate(all_loops):
            for index, handle, t in nsp.live_slots(impl["conns_"]):
                fd = int(t["fd"])
                proto, phase = nsp.handler_of(t)
                gdb.write(fmt % (n, index, "0x%x" % handle, fd, _peer(pid, fd, t, peers), proto,
                                 phase, nsp.tls_state(t), nsp.queued_bytes(t["out"]),
                                 nsp.close_state(t)))
                total += 1
        gdb.write("%d connection(s)\n" % total)


class NsLoopFn(gdb.Function):
    """$ns_loop(N): the network_server::impl of loop N (numbered as ns-loops lists them)."""

    def __init__(self):
        super().__init__("ns_loop")

    def invoke(self, n):
        all_loops = nsp.loops()
        if not 0 <= int(n) < len(all_loops):
            raise gdb.GdbError("no loop %d (%d live)" % (int(n), len(all_loops)))
        return all_loops[int(n)][1]


class NsConnFn(gdb.Function):
    """$ns_conn(LOOP, SLOT): the transport in slot SLOT of loop LOOP (see ns-connections)."""

    def __init__(self):
        super().__init__("ns_conn")

    def invoke(self, n, slot):
        for index, _, t in nsp.live_slots(NsLoopFn().invoke(n)["conns_"]):
            if index == int(slot):
                return t
        raise gdb.GdbError("slot %d of loop %d is free" % (int(slot), int(n)))


class NsHandlerFn(gdb.Function):
    """$ns_handler(LOOP, SLOT): that transport's protocol handler, as its own type (a pointer)."""

    def __init__(self):
        super().__init__("ns_handler")

    def invoke(self, n, slot):
        p = nsp.unique_ptr_get(NsConnFn().invoke(n, slot)["handler"])
        return p.cast(p.dynamic_type)


def _build_dir(program):
    d = os.path.dirname(os.path.abspath(program))
    while d != "/":
        if os.path.exists(os.path.join(d, "CMakeCache.txt")):
            return d
        d = os.path.dirname(d)
    return None


class NsDebug(gdb.Command):
    """Build the program, run it under gdb, and show where it stopped.

Usage: nsdebug [ARGS...]   (ARGS replace the arguments given with --args)
SIGPIPE passes to the program silently; breakpoints on not yet loaded code stay pending; a
sanitizer report stops in __sanitizer::Die with the stack intact (LeakSanitizer, which cannot
run under ptrace, is turned off: ASAN_OPTIONS gets detect_leaks=0); when the program lives in a
CMake build tree, 'cmake --build DIR --target NAME' runs first (a failed build runs nothing);
when the program stops (crash, signal, breakpoint), the backtrace is printed."""

    def __init__(self):
        super().__init__("nsdebug", gdb.COMMAND_RUNNING)

    def invoke(self, arg, from_tty):
        gdb.execute("handle SIGPIPE nostop noprint pass")
        gdb.execute("set breakpoint pending on")
        gdb.execute("set print object on")
        if not any(b.location == "__sanitizer::Die" for b in gdb.breakpoints()):
            gdb.Breakpoint("__sanitizer::Die")
        # LeakSanitizer cannot run under ptrace: it would end every run in a fatal error.
        asan = os.environ.get("ASAN_OPTIONS", "")
        if "detect_leaks" not in asan:
            opts = ":".join(filter(None, [asan, "detect_leaks=0"]))
            gdb.execute("set environment ASAN_OPTIONS=%s" % opts)
        program = gdb.current_progspace().filename
        if program is None:
            raise gdb.GdbError("nsdebug: no program (gdb --args PROGRAM ARGS...)")
        build = _build_dir(program)
        if build is not None:
            cmd = ["cmake", "--build", build, "--target", os.path.basename(program)]
            gdb.write("nsdebug: %s\n" % " ".join(shlex.quote(c) for c in cmd))
            if subprocess.call(cmd) != 0:
                raise gdb.GdbError("nsdebug: the build failed; not running")
        gdb.execute("run " + arg if arg else "run")
        if gdb.selected_inferior().pid > 0 and gdb.selected_thread() is not None:
            gdb.execute("bt")


def register():
    NsLoops()
    NsConnections()
    NsDebug()
    NsLoopFn()
    NsConnFn()
    NsHandlerFn()
