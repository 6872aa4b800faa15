// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// wsload --mode fanout (bench/run.sh's cluster_fanout): subscribers and publishers of one room
/// spread over several server instances, publish→receive latency and losses.

#include <openssl/ssl.h>

#include "load.hpp"

namespace ns::bench {

/// Runs the fanout mode and prints one JSON line. Returns the process exit status: 1 when the
/// run did not hold (an error, a lost or duplicated message, a connection gone, no delivery).
int run_fanout(const load_options& opts, SSL_CTX* ctx);

}  // namespace ns::bench
