#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Quick start: install dependencies, build the release preset and run ns_serve on
# https://127.0.0.1:8443/ serving examples/public (extra arguments go to ns_serve).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install-deps.sh
bash ci/build.sh release
exec build/release/src/bin/ns_serve "$@"
