// SPDX-License-Identifier: MIT
#pragma once
// Heap bytes in use by the whole process, for memory-accounting tests (what N idle connections
// or sessions cost): glibc's count in a plain build, the sanitizer allocator's under ASan,
// which replaces malloc so that glibc sees nothing.

#include <malloc.h>

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define NS_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NS_TEST_ASAN 1
#endif
#endif
#ifdef NS_TEST_ASAN
// Declared here: gcc does not ship <sanitizer/allocator_interface.h>.
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace ns::test {

inline std::size_t heap_in_use() {
#ifdef NS_TEST_ASAN
  return __sanitizer_get_current_allocated_bytes();
#else
  // Summed over every arena (other threads' allocations count), plus the chunks glibc maps on
  // their own: an allocation above the mmap threshold (128 KiB at first, raised as such chunks
  // are freed) is not in uordblks, so a 256 KiB zlib hash table counted or not by test order.
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
#endif
}

}  // namespace ns::test
