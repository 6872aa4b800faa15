#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/build.sh PRESET: configure and build one CMake preset (dev, release, coverage, fuzz, tsan).
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-dev}
cmake --preset "$preset" >/dev/null
cmake --build "build/$preset" -j"$(nproc)"
