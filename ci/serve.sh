#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Quick start: install dependencies, build ns_serve (release preset, that target only: the tests,
# examples and benchmarks are not built) and run it on https://127.0.0.1:8443/ serving
# examples/public (extra arguments go to ns_serve).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install-deps.sh
cmake --preset release >/dev/null
cmake --build build/release -j"$(nproc)" --target ns_serve
exec build/release/src/bin/ns_serve "$@"
