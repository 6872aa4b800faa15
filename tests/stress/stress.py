#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs the ns_serve stress scenarios (issue 10) against 127.0.0.1 and prints their figures.

  tests/stress/stress.py --server build/dev/src/bin/ns_serve [--scale ci|full]
                         [--scenario flood,abrupt,slow,hostile,soak,stalled,memcap,upgrade]
                         [--threads 2]
                         [--rundir DIR] [--rss-checks] [--json FILE]

Each scenario starts its own ns_serve (fresh process, fresh baseline), measures it from
/proc/PID/status (VmRSS, VmHWM) and /proc/PID/fd, stops it with SIGTERM (exit status must be 0)
and fails if any sanitizer report appeared. Exit status: 0 when every pass criterion held.
"""
import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nsstress import abrupt, flood, hostile, memcap, slow, soak, stalled, upgrade  # noqa: E402
from nsstress.probe import Result  # noqa: E402
from nsstress.server import Server, make_certificate, make_docroot  # noqa: E402

SCENARIOS = {"flood": flood, "abrupt": abrupt, "slow": slow, "hostile": hostile, "soak": soak,
             "stalled": stalled, "memcap": memcap, "upgrade": upgrade}

# Sizes per scale. ci: whole set in a few minutes on 2 cores under ASan; full: issue 10's sizes.
SCALES = {
    "ci": {
        # 2,500: enough growth to pass server_config::memory_trim_threshold (16 MiB of RSS
        # growth since the last trim), the condition for giving it back. 1,500 were enough at 22 KB per connection; at 16 KB (the request parser no
        # longer reserves its limits) they free 12 MiB, which the server rightly keeps, and
        # the settle criterion was decided by a few hundred KiB. Release build, 2,500: loaded
        # 58.7 MB, settled 37.2 MB after the trim (limit 50 MB).
        "flood": {"connections": 2500, "rounds": 2},
        "abrupt": {"connections": 600, "inflight": 100},
        "slow": {"slowloris": 100, "file_readers": 100, "ws_readers": 100, "seconds": 12,
                 "header_timeout": 4, "p99_ms": 100},
        "hostile": {"connections": 600, "inflight": 100},
        "soak": {"seconds": 20, "http_workers": 8, "ws_workers": 8},
        "stalled": {"per_kind": 5, "idle_timeout": 2, "cut_within": 7},
        # 24 stalled readers could queue 192 MiB against the 64 MiB cap.
        "memcap": {"readers": 24, "messages": 16, "idle": 300, "handshakes": 1500,
                   "inflight": 256, "hold": 3},
        # Issue 20 §3 at CI scale: 5 upgrades (the last refused) under keep-alive, fresh
        # connections every 5 ms, 40 movable + 4 deflate WebSockets echoing every 20 ms, and a
        # 64 MiB download.
        "upgrade": {"keepalive": 4, "fresh_interval": 0.005, "wss": 40, "deflate_wss": 4,
                    "download_bytes": 64 << 20, "upgrades": 5, "drain_timeout": 2,
                    "window": 5, "between": 0.5, "download_timeout": 180},
    },
    # The ThreadSanitizer pass (5-15x slower): the same paths, fewer connections.
    "tsan": {
        "flood": {"connections": 200, "rounds": 1},
        "abrupt": {"connections": 300, "inflight": 50},
        "slow": {"slowloris": 40, "file_readers": 40, "ws_readers": 40, "seconds": 8,
                 "header_timeout": 4, "p99_ms": 100},
        "hostile": {"connections": 300, "inflight": 50},
        "soak": {"seconds": 15, "http_workers": 4, "ws_workers": 4},
        "stalled": {"per_kind": 3, "idle_timeout": 2, "cut_within": 7},
        "memcap": {"readers": 16, "messages": 12, "idle": 100, "handshakes": 300,
                   "inflight": 64, "hold": 3},
        "upgrade": {"keepalive": 2, "fresh_interval": 0.02, "wss": 16, "deflate_wss": 2,
                    "download_bytes": 16 << 20, "upgrades": 3, "drain_timeout": 2,
                    "window": 5, "between": 0.5, "download_timeout": 300},
    },
    "full": {
        "flood": {"connections": 10000, "rounds": 5},
        "abrupt": {"connections": 10000, "inflight": 300},
        "slow": {"slowloris": 1000, "file_readers": 1000, "ws_readers": 1000, "seconds": 40,
                 "header_timeout": 10, "p99_ms": 100},
        "hostile": {"connections": 10000, "inflight": 300},
        "soak": {"seconds": 600, "http_workers": 16, "ws_workers": 16},
        "stalled": {"per_kind": 300, "idle_timeout": 5, "cut_within": 15},
        "memcap": {"readers": 200, "messages": 16, "idle": 3000, "handshakes": 10000,
                   "inflight": 300, "hold": 5},
        # Issue 20 §3's sizes: 200 WebSockets, one 1 GiB download.
        "upgrade": {"keepalive": 8, "fresh_interval": 0.005, "wss": 200, "deflate_wss": 10,
                    "download_bytes": 1 << 30, "upgrades": 5, "drain_timeout": 5,
                    "window": 10, "between": 1.0, "download_timeout": 900},
    },
}


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


LATENCY_FAILURE = "fresh-client p99"


def run_scenario(name, args, rundir, cert, key, root):
    cfg = dict(SCALES[args.scale][name])
    cfg["rss_checks"] = args.rss_checks
    cfg["server_binary"] = os.path.abspath(args.server)
    cfg["rundir"] = rundir
    if args.soak_seconds and name == "soak":
        cfg["seconds"] = args.soak_seconds
    if args.p99_ms and "p99_ms" in cfg:
        cfg["p99_ms"] = args.p99_ms
    extra = list(SCENARIOS[name].server_args(cfg)) if hasattr(SCENARIOS[name], "server_args") \
        else []
    server = Server(args.server, rundir, name, root, cert, key, args.threads, extra).start()
    t0 = time.monotonic()
    try:
        res = asyncio.run(SCENARIOS[name].run(server, cfg))
    except Exception as e:  # noqa: BLE001 - a crashed generator is a failed scenario
        res = Result(name)
        res.failures.append(f"generator raised {e!r}")
    res.figures["seconds"] = round(time.monotonic() - t0, 1)
    if server.alive():
        res.figures["hwm_kib_end"] = server.hwm_kib()
    else:
        res.failures.append(f"server died: exit {server.proc.returncode}: {server.tail_stderr()}")
    status = server.stop()
    res.check(status == 0, f"ns_serve exit status {status} after SIGTERM (want 0)")
    reports = server.sanitizer_reports()
    res.figures["sanitizer_reports"] = len(reports)
    res.check(not reports, "sanitizer reports: " + "; ".join(reports[:5]))
    return res


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--server", required=True, help="path of the ns_serve binary")
    p.add_argument("--scale", choices=SCALES, default="ci")
    p.add_argument("--scenario", default=",".join(SCENARIOS))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rundir", help="logs, sanitizer reports, certificate, document root")
    p.add_argument("--rss-checks", action="store_true",
                   help="assert the RSS criteria (meaningful only without ASan's quarantine)")
    p.add_argument("--p99-ms", type=float,
                   help="fresh-client p99 limit of the slow scenario (default: 100 ms)")
    p.add_argument("--soak-seconds", type=int, help="override the soak duration")
    p.add_argument("--latency-retries", type=int, default=1,
                   help="run the slow scenario again (on a fresh server) when only its latency "
                        "criterion failed, up to this many times (default 1)")
    p.add_argument("--json", help="write every scenario's figures to this file")
    args = p.parse_args()
    rundir = args.rundir or tempfile.mkdtemp(prefix="ns-stress-")
    os.makedirs(rundir, exist_ok=True)
    print(f"stress: {args.server} scale={args.scale} threads={args.threads} "
          f"fd limit={raise_fd_limit()} rundir={rundir}", flush=True)
    cert, key = make_certificate(rundir)
    root = make_docroot(os.path.join(rundir, "root"), 32 * 1024 * 1024)
    all_results, failed = {}, []
    for name in args.scenario.split(","):
        res = run_scenario(name, args, rundir, cert, key, root)
        for attempt in range(args.latency_retries):
            if not res.failures or not all(f.startswith(LATENCY_FAILURE) for f in res.failures):
                break
            # Only the fresh client's latency missed its limit: on a shared 2-core machine one
            # scheduling stall of the probe process is enough. Run the scenario again on a fresh
            # server; both runs stay in the output and the JSON.
            print(f"--- {name}: latency above the limit ({res.failures[0]}); running it again",
                  flush=True)
            all_results[f"{name}_attempt{attempt + 1}"] = {
                "figures": res.figures, "failures": res.failures, "notes": res.notes}
            res = run_scenario(name, args, rundir, cert, key, root)
        all_results[name] = {"figures": res.figures, "failures": res.failures, "notes": res.notes}
        verdict = "ok" if not res.failures else "FAILED"
        print(f"--- {name}: {verdict} ({res.figures.get('seconds')} s)", flush=True)
        for k, v in res.figures.items():
            print(f"    {k} = {v}")
        for n in res.notes:
            print(f"    note: {n}")
        for f in res.failures:
            print(f"    FAIL: {f}")
        if res.failures:
            failed.append(name)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(all_results, f, indent=1)
    print(f"stress: {'all passed' if not failed else 'FAILED: ' + ', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
