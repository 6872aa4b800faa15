// SPDX-License-Identifier: MIT
#pragma once
// The clock of durations the server measures (histograms, stats.hpp). The loop's millisecond
// clock (now_ms) is read once per wake-up, too coarse for a request answered in 50 µs, so
// these read the monotonic clock itself (the vDSO: no system call).

#include <chrono>
#include <cstdint>

namespace ns::server {

[[nodiscard]] inline std::uint64_t steady_ns() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace ns::server
