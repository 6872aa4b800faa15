// SPDX-License-Identifier: MIT
#include "server/memory_trim.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace ns::server {

namespace {
// Process-wide: several loops share one heap, one trim serves them all.
std::atomic<std::uint64_t> next_check_ms{0};
// RSS and free heap right after the last trim; written only by the loop that won this
// interval's check.
std::atomic<std::size_t> resident_after_trim{0};
std::atomic<std::size_t> free_after_trim{0};
}  // namespace

std::size_t read_resident() noexcept {
  const int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[128];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n <= 0) return 0;
  // "size resident shared ...", in pages.
  const char* end = buf + n;
  const char* p = static_cast<const char*>(std::memchr(buf, ' ', static_cast<std::size_t>(n)));
  if (p == nullptr) return 0;
  std::size_t pages = 0;
  if (std::from_chars(p + 1, end, pages).ec != std::errc{}) return 0;
  return pages * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

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
  const trim_mark last{resident_after_trim.load(std::memory_order_relaxed),
                       free_after_trim.load(std::memory_order_relaxed)};
  if (!worth_trimming(before, read_resident(), last, threshold_)) return 0;
#if defined(__GLIBC__)
  ::malloc_trim(0);
#endif
  resident_after_trim.store(read_resident(), std::memory_order_relaxed);
  free_after_trim.store(read_heap().free, std::memory_order_relaxed);
  return before.free;
}

}  // namespace ns::server
