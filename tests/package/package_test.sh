#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The library as a package, end to end:
#   1. `cmake --install BUILD --prefix TMP` (headers, static libraries, CMake package, .pc);
#   2. configure and build tests/package/consumer against TMP with find_package(network_server),
#      run it (it serves and fetches one request);
#   3. build the same program with `pkg-config --cflags --libs network_server` and run it.
# Usage: package_test.sh SOURCE_DIR BUILD_DIR CXX_COMPILER
set -euo pipefail
src=$1 build=$2 cxx=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ns_package.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "== install into $tmp/prefix"
cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log"
test -f "$tmp/prefix/include/network_server/network_server.hpp"
test -f "$tmp/prefix/lib/cmake/network_server/network_serverConfig.cmake"
test -f "$tmp/prefix/lib/pkgconfig/network_server.pc"
for lib in network_server ns_io ns_tls ns_http ns_ws ns_proxy ns_llhttp ns_cluster ns_redis; do test -f "$tmp/prefix/lib/lib$lib.a"; done
# The installed headers must not reach into the source tree's private src/.
if grep -rn '#include "' "$tmp/prefix/include/network_server"; then
  echo "installed headers include private headers" >&2; exit 1
fi

echo "== find_package consumer"
cmake -S "$src/tests/package/consumer" -B "$tmp/consumer" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_BUILD_TYPE=Debug >"$tmp/configure.log" \
  || { cat "$tmp/configure.log"; exit 1; }
cmake --build "$tmp/consumer" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
timeout 20 "$tmp/consumer/consumer"

echo "== pkg-config consumer"
flags=$(PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" pkg-config --cflags --libs network_server)
echo "pkg-config: $flags"
# shellcheck disable=SC2086  # the flags are a word list
"$cxx" -o "$tmp/consumer_pc" "$src/tests/package/consumer/main.cpp" $flags
timeout 20 "$tmp/consumer_pc"
echo "package test: ok"
