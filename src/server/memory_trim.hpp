// SPDX-License-Identifier: MIT
#pragma once
// Gives freed heap memory back to the kernel after a burst.
//
// glibc keeps pages it has freed in the middle of the heap: after a flood of 10,000 connections
// closes, the process would keep its peak RSS for ever (and each later burst, fragmenting
// differently, raises the peak a little). An operator reads that as a leak. Every `interval`
// one loop of the process looks at its RSS and free heap and, when either has grown by
// `threshold` since the last trim, calls malloc_trim. Growth of RSS, not the free heap's
// share, is the trigger: after a burst the free heap may be smaller than the part in use (caches,
// pools, fragmentation) and still be tens of MiB of RSS the kernel could have back; a trim at
// most once per `threshold` of growth keeps a busy, growing server from trimming and faulting
// the same pages back in, and an idle one from trimming again what it gave back already.

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace ns::server {

struct heap_figures {
  std::size_t in_use = 0;  ///< bytes handed out by malloc (heap + mmapped chunks)
  std::size_t free = 0;    ///< bytes free inside the heap, held by the process
};

/// Current figures of the process's malloc. All zero where they are not known (not glibc, or a
/// sanitizer's allocator is in place of glibc's).
heap_figures read_heap() noexcept;

/// The process's resident set in bytes (/proc/self/statm); 0 if it cannot be read.
std::size_t read_resident() noexcept;

/// Whether to trim, from the heap and RSS now and right after the last trim (zeros before the
/// first): RSS has grown by `threshold` since, or the free heap has (a trim that ran while a
/// burst was still closing saw only part of it free), and the heap holds something to give
/// back. The walk malloc_trim does costs in proportion to the free chunks, so a small free heap
/// is cheap; an idle server whose figures stay put does not trim again.
struct trim_mark {
  std::size_t resident = 0;
  std::size_t free = 0;
};
constexpr bool worth_trimming(heap_figures h, std::size_t resident, trim_mark last,
                              std::size_t threshold) noexcept {
  return h.free > 0 && (resident >= last.resident + threshold || h.free >= last.free + threshold);
}

class memory_trimmer {
 public:
  /// interval 0 disables trimming.
  memory_trimmer(std::chrono::milliseconds interval, std::size_t threshold) noexcept
      : interval_ms_(static_cast<std::uint64_t>(interval.count())), threshold_(threshold) {}

  /// Called on every loop tick; does nothing until the process-wide interval has passed. Any
  /// loop may run the check (the heap is shared by all of them); the first one past the
  /// deadline does. Returns the free heap bytes it offered back to the kernel (0: no trim;
  /// malloc_trim gives back the whole pages among them).
  std::size_t maybe_trim(std::uint64_t now_ms) noexcept;

 private:
  std::uint64_t interval_ms_;
  std::size_t threshold_;
};

}  // namespace ns::server
