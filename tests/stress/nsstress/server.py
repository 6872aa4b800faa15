# SPDX-License-Identifier: MIT
"""Starts ns_serve under test, samples its memory and descriptors, stops it, collects
sanitizer reports (ASan/UBSan/TSan write them to files under the run directory)."""
import glob
import os
import re
import signal
import subprocess
import time

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "WARNING: ThreadSanitizer", "ERROR: ThreadSanitizer")


def make_certificate(directory):
    """A throwaway ECDSA P-256 certificate for localhost/127.0.0.1 (never committed)."""
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    if not os.path.exists(cert):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def make_docroot(directory, big_bytes):
    """index.html (small), mid.bin (200 KiB, cached) and big.bin (streamed, uncached)."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "index.html"), "w") as f:
        f.write("<!doctype html><title>stress</title><p>hello</p>\n")
    for name, size in (("mid.bin", 200 * 1024), ("big.bin", big_bytes)):
        path = os.path.join(directory, name)
        if not os.path.exists(path) or os.path.getsize(path) != size:
            with open(path, "wb") as f:
                block = os.urandom(1 << 16)
                left = size
                while left > 0:
                    f.write(block[:min(left, len(block))])
                    left -= len(block)
    return directory


def _status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


class Server:
    """One ns_serve process. `name` keys its log and sanitizer files in `rundir`."""

    def __init__(self, binary, rundir, name, root, cert, key, threads=2, extra=()):
        self.binary, self.rundir, self.name = binary, rundir, name
        self.args = [binary, "--root", root, "--cert", cert, "--key", key, "--port", "0",
                     "--threads", str(threads), "--log-level", "warn", *extra]
        self.proc = None
        self.port = None
        self.stdout_path = os.path.join(rundir, f"{name}.stdout")
        self.stderr_path = os.path.join(rundir, f"{name}.stderr")
        self.san_prefix = os.path.join(rundir, f"san.{name}")

    def start(self, timeout=30.0):
        env = dict(os.environ)
        log = f"log_path={self.san_prefix}"
        env["ASAN_OPTIONS"] = f"detect_leaks=1:{log}:" + env.get("NS_STRESS_ASAN_EXTRA", "")
        env["UBSAN_OPTIONS"] = f"print_stacktrace=1:halt_on_error=1:{log}"
        env["TSAN_OPTIONS"] = f"halt_on_error=0:second_deadlock_stack=1:{log}"
        out = open(self.stdout_path, "w")
        err = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(self.args, stdout=out, stderr=err, env=env,
                                     stdin=subprocess.DEVNULL)
        out.close()
        err.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.stdout_path) as f:
                m = re.search(r"https?://[^ ]*:(\d+)/", f.readline())
            if m:
                self.port = int(m.group(1))
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"{self.name}: ns_serve did not start: {self.tail_stderr()}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def rss_kib(self):
        return _status_kib(self.proc.pid, "VmRSS")

    def hwm_kib(self):
        return _status_kib(self.proc.pid, "VmHWM")

    def fd_count(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def send_queues(self):
        """Bytes waiting in the kernel send queue (written, not yet acknowledged) of each of the
        server's established TCP connections, keyed by the peer's port: /proc/net/tcp, whose
        tx_queue column is what the peer has not taken. IPv4 only: ns_serve listens on 127.0.0.1
        here."""
        queues = {}
        with open("/proc/net/tcp") as f:
            next(f)  # the header line
            for line in f:
                _, local, peer, state, queue = line.split()[:5]
                if state == "01" and int(local.split(":")[1], 16) == self.port:  # ESTABLISHED
                    queues[int(peer.split(":")[1], 16)] = int(queue.split(":")[0], 16)
        return queues

    def wait_fds(self, baseline, timeout=15.0):
        """Polls until the descriptor count is back to `baseline` (closes are asynchronous)."""
        deadline = time.monotonic() + timeout
        count = self.fd_count()
        while count > baseline and time.monotonic() < deadline:
            time.sleep(0.1)
            count = self.fd_count()
        return count

    def stop(self, timeout=60.0):
        """SIGTERM; returns the exit status (None if it had to be killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode

    def tail_stderr(self, lines=20):
        try:
            with open(self.stderr_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def sanitizer_reports(self):
        """Report files written by the sanitizers, plus stderr lines carrying their markers."""
        found = [p for p in glob.glob(self.san_prefix + "*") if os.path.getsize(p) > 0]
        with open(self.stderr_path, errors="replace") as f:
            for line in f:
                if any(m in line for m in SANITIZER_MARKERS):
                    found.append(f"{self.stderr_path}: {line.strip()}")
        return found
