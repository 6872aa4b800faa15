// SPDX-License-Identifier: MIT
#pragma once
// The memory cap (server_config::max_memory) as one loop sees it. The cap is per process: every
// loop with a cap adds what its connections hold (their accounted bytes, memory_by_kind) to one
// process-wide sum, and each loop compares that sum with the cap. Above the high-water mark (the
// cap) the process is over until the sum falls below the low-water mark (80 % of the cap); the
// loops then refuse new connections and shed connections (memory_cap.cpp, in the core).

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace ns::server {

class memory_budget {
 public:
  /// Low-water mark in percent of the cap: over the cap, shedding goes down to it and new
  /// connections are accepted again below it.
  static constexpr std::uint64_t low_water_percent = 80;

  /// With a cap (not 0), also fixes glibc's mmap threshold for the process (memory_cap.cpp).
  explicit memory_budget(std::size_t cap) noexcept;
  ~memory_budget() { publish(0); }
  memory_budget(const memory_budget&) = delete;
  memory_budget& operator=(const memory_budget&) = delete;

  [[nodiscard]] bool enabled() const noexcept { return cap_ != 0; }
  [[nodiscard]] std::uint64_t cap() const noexcept { return cap_; }
  [[nodiscard]] std::uint64_t low() const noexcept { return low_; }
  [[nodiscard]] bool over() const noexcept { return over_; }

  /// Makes @p mine this loop's share of the process sum; returns the process sum.
  std::uint64_t publish(std::uint64_t mine) noexcept {
    const std::uint64_t before = mine_;
    mine_ = mine;
    if (mine >= before) return process_sum().fetch_add(mine - before) + (mine - before);
    return process_sum().fetch_sub(before - mine) - (before - mine);
  }
  /// Moves between over and under with hysteresis; true if the state changed.
  bool judge(std::uint64_t sum) noexcept {
    const bool was = over_;
    if (sum > cap_) over_ = true;
    if (sum <= low_) over_ = false;
    return over_ != was;
  }

 private:
  static std::atomic<std::uint64_t>& process_sum() noexcept {
    static std::atomic<std::uint64_t> sum{0};
    return sum;
  }

  std::uint64_t cap_;
  std::uint64_t low_;
  std::uint64_t mine_ = 0;
  bool over_ = false;
};

}  // namespace ns::server
