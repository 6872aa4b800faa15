#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs everything the build, tests, fuzzers, coverage and benchmarks need, from Debian, and
# the node packages of the tests and of the benchmark peers with npm ci. Idempotent: apt-get
# skips what is already installed; npm ci reinstalls the same locked versions.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config git
  liburing-dev libssl-dev zlib1g-dev libgtest-dev node-llhttp libhiredis-dev
  redis-server redis-tools  # the cluster tests start their own redis-server (never the service)
  clang libclang-rt-14-dev clang-format
  gcovr curl openssl python3 python3-websockets procps
  gdb  # tools/gdb/ns.gdb and its test (tests/integration/gdb_helpers_it.cpp)
  haproxy  # tests/integration/proxy_haproxy_it.cpp: the real PROXY protocol sender
  systemd  # tests/integration/ns_serve_upgrade_it.cpp: systemd-socket-activate
  python3-prometheus-client  # tests/integration/metrics_it.cpp parses the scrape with it
  nginx wrk linux-perf util-linux  # bench/run.sh (util-linux: taskset)
  libnghttp2-dev  # src/http2: the HTTP/2 session (nghttp2), its tests and fuzz harness
  nghttp2-client  # the h2 integration tests: nghttp and h2load against ns_serve
  python3-h2  # tests/integration/h2_clients/slow_reader.py; fuzz/tools/http2_seed_gen.py
  chromium  # tests/browser: headless Chromium driven over the DevTools protocol
)

if [[ ${NS_SKIP_APT:-0} == 1 ]]; then
  echo "install-deps: NS_SKIP_APT=1, not installing Debian packages"
else
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  # bench/run.sh's node peer needs node + npm; keep an existing node (e.g. 20 from NodeSource)
  # rather than installing Debian's older one over it.
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  echo "install-deps: ok (${#packages[@]} packages present)"
fi

# The node WebSocket client of tests/integration/ws_clients_it.cpp: npm's `ws` at the version
# the committed package-lock.json pins, into tests/integration/ws_clients/node_modules (not
# committed), where ws_client.js finds it. The test fails when it is missing. npm ci replaces
# node_modules with exactly the locked tree, so running this again is harmless.
npm ci --prefix tests/integration/ws_clients --prefer-offline --no-audit --no-fund --silent
echo "install-deps: node ws client installed (tests/integration/ws_clients/node_modules)"
# bench/run.sh's node peers: `ws` (the WSS scenarios) and Socket.IO with @socket.io/redis-adapter
# and the `redis` client (cluster_fanout), at the versions bench/node/package-lock.json pins.
npm ci --prefix bench/node --prefer-offline --no-audit --no-fund --silent
echo "install-deps: bench node peers installed (bench/node/node_modules)"
