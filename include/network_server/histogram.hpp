// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Fixed-bucket histograms of integer observations (nanoseconds, bytes), the shape Prometheus
/// exposes: a count per bucket, a sum and a total count.
///
/// A histogram is written by one thread only (a loop's counters, see stats.hpp) with plain
/// integer adds: no lock, no atomic, no allocation. Whoever collects several (one per loop)
/// copies each on its own thread and adds them with `merge`.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace ns {

/// Where a histogram's buckets end and what its observations are worth in base units.
struct histogram_layout {
  /// Inclusive upper bounds of the buckets, ascending, in the unit observed; a last bucket
  /// (+Inf) takes what lies above the last bound. At most `histogram::max_bounds`.
  std::span<const std::uint64_t> bounds;
  /// Observed units per base unit: 1e9 for nanoseconds shown as seconds, 1 for bytes. (A
  /// divisor, not a factor: 250000 / 1e9 is exactly the double nearest 0.00025, which the
  /// product with 1e-9 is not.)
  double per_base_unit = 1.0;
};

/// Bounds of durations, in nanoseconds: 100 µs to 10 s (a static file from the cache takes
/// tens of µs; a handshake ~1 ms; above seconds the details no longer matter).
inline constexpr std::uint64_t duration_bounds_ns[] = {
    100'000,       250'000,       500'000,       1'000'000,     2'500'000,   5'000'000,
    10'000'000,    25'000'000,    50'000'000,    100'000'000,   250'000'000, 500'000'000,
    1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};
/// Durations observed in nanoseconds, shown in seconds.
inline constexpr histogram_layout duration_layout{duration_bounds_ns, 1e9};

/// Bounds of sizes, in bytes: 64 B to 16 MiB, a factor 4 apart.
inline constexpr std::uint64_t size_bounds_bytes[] = {64,    256,    1024,    4096,    16384,
                                                      65536, 262144, 1048576, 4194304, 16777216};
/// Sizes in bytes.
inline constexpr histogram_layout size_layout{size_bounds_bytes, 1.0};

/// Counts of observations per bucket of a layout.
class histogram {
 public:
  /// The most bounds a layout may have (its buckets live inline, no allocation).
  static constexpr std::size_t max_bounds = 20;

  /// Empty, with @p layout's buckets (which must outlive the histogram and its copies; a
  /// layout of more than `max_bounds` bounds keeps only the first ones).
  explicit histogram(const histogram_layout& layout) noexcept;

  /// Counts @p value in the first bucket whose bound is >= it (or +Inf) and adds it to the sum.
  void observe(std::uint64_t value) noexcept;

  /// Adds @p other's counts and sum. Both must have the same layout; false (nothing added)
  /// if they do not.
  bool merge(const histogram& other) noexcept;

  /// The layout the buckets follow.
  [[nodiscard]] const histogram_layout& layout() const noexcept { return *layout_; }
  /// The number of finite bounds (buckets are that plus the +Inf one).
  [[nodiscard]] std::size_t bounds() const noexcept { return bounds_; }
  /// Observations in bucket @p i alone (i == bounds(): above the last bound).
  [[nodiscard]] std::uint64_t bucket(std::size_t i) const noexcept { return counts_[i]; }
  /// Observations <= bound @p i (i == bounds(): all of them), what Prometheus' `le` means.
  [[nodiscard]] std::uint64_t cumulative(std::size_t i) const noexcept;
  /// All observations.
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  /// The sum of the observed values, in the observed unit (wraps after 2^64: 584 years of ns).
  [[nodiscard]] std::uint64_t sum() const noexcept { return sum_; }

 private:
  const histogram_layout* layout_;
  std::size_t bounds_;
  std::array<std::uint64_t, max_bounds + 1> counts_{};
  std::uint64_t sum_ = 0;
  std::uint64_t count_ = 0;
};

}  // namespace ns
