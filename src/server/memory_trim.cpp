// SPDX-License-Identifier: MIT
#include "server/memory_trim.hpp"

#include <atomic>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace ns::server {

namespace {
// Process-wide: several loops share one heap, one trim serves them all.
std::atomic<std::uint64_t> next_check_ms{0};
}  // namespace

heap_figures read_heap() noexcept {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  const struct mallinfo2 m = ::mallinfo2();
  return {m.uordblks + m.hblkhd, m.fordblks};
#else
  return {};
#endif
}

std::size_t memory_trimmer::maybe_trim(std::uint64_t now_ms) noexcept {
  if (interval_ms_ == 0) return 0;
  std::uint64_t due = next_check_ms.load(std::memory_order_relaxed);
  if (now_ms < due) return 0;
  if (!next_check_ms.compare_exchange_strong(due, now_ms + interval_ms_,
                                             std::memory_order_relaxed)) {
    return 0;  // another loop took this turn
  }
  const heap_figures before = read_heap();
  if (!worth_trimming(before, threshold_)) return 0;
#if defined(__GLIBC__)
  ::malloc_trim(0);
#endif
  return before.free;
}

}  // namespace ns::server
