#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs everything the build, tests, fuzzers, coverage and benchmarks need, from Debian.
# Idempotent: apt-get skips what is already installed.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  liburing-dev libssl-dev zlib1g-dev libgtest-dev node-llhttp
  clang libclang-rt-14-dev clang-format
  gcovr curl openssl python3 python3-websockets procps
  nginx wrk linux-perf util-linux  # bench/run.sh (util-linux: taskset)
  chromium  # tests/browser: headless Chromium driven over the DevTools protocol
)

if [[ ${NS_SKIP_APT:-0} == 1 ]]; then
  echo "install-deps: NS_SKIP_APT=1, not installing"
  exit 0
fi
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
