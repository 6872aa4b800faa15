// SPDX-License-Identifier: MIT
// Histograms (histogram.hpp): plain adds on the thread that owns one; merged when collected.
#include <network_server/histogram.hpp>

#include <algorithm>

namespace ns {

histogram::histogram(const histogram_layout& layout) noexcept
    : layout_(&layout), bounds_(std::min(layout.bounds.size(), max_bounds)) {}

void histogram::observe(std::uint64_t value) noexcept {
  const auto b = layout_->bounds.begin();
  // Buckets are inclusive ("le"): the first bound not below the value takes it.
  const auto i = static_cast<std::size_t>(
      std::lower_bound(b, b + static_cast<std::ptrdiff_t>(bounds_), value) - b);
  ++counts_[i];
  sum_ += value;
  ++count_;
}

bool histogram::merge(const histogram& other) noexcept {
  if (other.layout_ != layout_) return false;
  for (std::size_t i = 0; i <= bounds_; ++i) counts_[i] += other.counts_[i];
  sum_ += other.sum_;
  count_ += other.count_;
  return true;
}

std::uint64_t histogram::cumulative(std::size_t i) const noexcept {
  std::uint64_t n = 0;
  for (std::size_t k = 0; k <= i && k <= bounds_; ++k) n += counts_[k];
  return n;
}

}  // namespace ns
