// SPDX-License-Identifier: MIT
#pragma once
// The server's monotonic clocks (the vDSO: no system call). The loop reads milliseconds once per
// wake-up (now_ms_: timers, timeouts); that is too coarse for a request answered in 50 µs, so
// the durations the server measures (histograms, stats.hpp) read nanoseconds.

#include <chrono>
#include <cstdint>

namespace ns::server {

[[nodiscard]] inline std::uint64_t steady_ms() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

[[nodiscard]] inline std::uint64_t steady_ns() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace ns::server
