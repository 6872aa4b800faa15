// SPDX-License-Identifier: MIT
#pragma once
// Connection deadlines (handshake, header, idle, close linger) on a hashed timing wheel.
//
// One periodic wake-up of the loop drives every timer: there is no timer operation per
// connection in the ring. Each slot index is in at most one bucket, linked through arrays sized
// once at construction, so scheduling, re-scheduling and cancelling are O(1) and allocate
// nothing. A deadline further away than one turn of the wheel simply stays in its bucket until
// the turn in which it is due (checked against the stored deadline).

#include <cstdint>
#include <limits>
#include <vector>

namespace ns::io {

class timer_wheel {
 public:
  using time_ms = std::uint64_t;

  timer_wheel(std::uint32_t capacity, time_ms tick_ms, std::uint32_t buckets, time_ms now)
      : tick_ms_(tick_ms == 0 ? 1 : tick_ms),
        buckets_(buckets == 0 ? 1 : buckets, none),
        next_(capacity, none),
        prev_(capacity, none),
        bucket_of_(capacity, none),
        deadline_(capacity, 0),
        current_tick_(now / tick_ms_) {}

  /// Arms (or re-arms) @p index to fire at @p deadline.
  void schedule(std::uint32_t index, time_ms deadline) {
    // Moving an armed deadline later — what activity on a connection does, per request or
    // message — only records it: the timer stays in its bucket until that bucket comes round,
    // and advance() then moves it to the bucket of its new deadline. One store per re-arm
    // instead of an unlink and a link.
    if (bucket_of_[index] != none && deadline >= deadline_[index]) {
      deadline_[index] = deadline;
      return;
    }
    cancel(index);
    deadline_[index] = deadline;
    link(index, bucket_for(deadline));
  }

  void cancel(std::uint32_t index) {
    const std::uint32_t b = bucket_of_[index];
    if (b == none) return;
    if (prev_[index] != none) {
      next_[prev_[index]] = next_[index];
    } else {
      buckets_[b] = next_[index];
    }
    if (next_[index] != none) prev_[next_[index]] = prev_[index];
    next_[index] = prev_[index] = bucket_of_[index] = none;
  }

  [[nodiscard]] bool armed(std::uint32_t index) const { return bucket_of_[index] != none; }
  [[nodiscard]] time_ms deadline(std::uint32_t index) const { return deadline_[index]; }

  /// Fires every timer due at or before @p now; fire(index) may schedule or cancel any timer.
  template <class F>
  void advance(time_ms now, F&& fire) {
    const std::uint64_t target = now / tick_ms_;
    // Visiting more than one turn's worth of buckets is pointless: cap the walk.
    std::uint64_t steps = target >= current_tick_ ? target - current_tick_ + 1 : 0;
    if (steps > buckets_.size()) steps = buckets_.size();
    for (std::uint64_t s = 0; s < steps; ++s) {
      const auto b = static_cast<std::uint32_t>((current_tick_ + s) % buckets_.size());
      std::uint32_t i = buckets_[b];
      while (i != none) {
        const std::uint32_t after = next_[i];
        if (deadline_[i] <= now) {
          cancel(i);
          fire(i);
        } else if (const std::uint32_t home = bucket_for(deadline_[i]); home != b) {
          cancel(i);  // its deadline was pushed later: file it where that deadline falls
          link(i, home);
        }
        i = after;
        // fire() may have unlinked `after`; restart the bucket from its head if so.
        if (i != none && bucket_of_[i] != b) i = buckets_[b];
      }
    }
    if (target > current_tick_) current_tick_ = target;
  }

 private:
  static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();

  [[nodiscard]] std::uint32_t bucket_for(time_ms deadline) const {
    std::uint64_t tick = deadline / tick_ms_;
    if (tick < current_tick_) tick = current_tick_;
    return static_cast<std::uint32_t>(tick % buckets_.size());
  }

  void link(std::uint32_t index, std::uint32_t b) {
    next_[index] = buckets_[b];
    prev_[index] = none;
    if (buckets_[b] != none) prev_[buckets_[b]] = index;
    buckets_[b] = index;
    bucket_of_[index] = b;
  }

  time_ms tick_ms_;
  std::vector<std::uint32_t> buckets_;
  std::vector<std::uint32_t> next_;
  std::vector<std::uint32_t> prev_;
  std::vector<std::uint32_t> bucket_of_;
  std::vector<time_ms> deadline_;
  std::uint64_t current_tick_;
};

}  // namespace ns::io
