// SPDX-License-Identifier: MIT
#include "server/memory_trim.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

namespace {

using ns::server::heap_figures;
using ns::server::memory_trimmer;
using ns::server::read_heap;
using ns::server::worth_trimming;

constexpr std::size_t MiB = 1024 * 1024;

std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

TEST(MemoryTrim, TrimsOncePerThresholdOfGrowthInResidentOrFreeHeap) {
  using ns::server::trim_mark;
  const heap_figures some_free{.in_use = 30 * MiB, .free = 12 * MiB};
  // RSS 15 MiB above what the last trim left, the free heap as it was: not yet.
  EXPECT_FALSE(worth_trimming(some_free, 115 * MiB, trim_mark{100 * MiB, 12 * MiB}, 16 * MiB));
  EXPECT_TRUE(worth_trimming(some_free, 116 * MiB, trim_mark{100 * MiB, 12 * MiB}, 16 * MiB));
  // After a burst the free heap may be smaller than the part in use and still worth giving back
  // (a stress flood's first round left about 12 MiB free beside more in use, RSS 24 MiB up).
  EXPECT_TRUE(worth_trimming(some_free, 44 * MiB, trim_mark{}, 16 * MiB));
  // A trim that ran while the burst was still closing: RSS fell, then the rest was freed.
  EXPECT_TRUE(worth_trimming({.in_use = 20 * MiB, .free = 28 * MiB}, 43 * MiB,
                             trim_mark{43 * MiB, 12 * MiB}, 16 * MiB));
  // Nothing free: nothing to give, whatever RSS did (a server growing its live connections).
  EXPECT_FALSE(worth_trimming({.in_use = 400 * MiB, .free = 0}, 500 * MiB, trim_mark{100 * MiB, 0},
                              16 * MiB));
  // An idle server that gave its pages back does not trim them again.
  EXPECT_FALSE(worth_trimming({.in_use = 10 * MiB, .free = 40 * MiB}, 30 * MiB,
                              trim_mark{30 * MiB, 40 * MiB}, 16 * MiB));
}

TEST(MemoryTrim, ReadsTheResidentSet) {
  const std::size_t r = ns::server::read_resident();
  const std::size_t ref = resident_bytes();
  EXPECT_GT(r, 0u);
  EXPECT_LT(r > ref ? r - ref : ref - r, MiB);  // two reads a few allocations apart
}

// The tests below share the process-wide schedule, so their clocks only move forward.
TEST(MemoryTrim, ZeroIntervalNeverTrims) {
  memory_trimmer off(std::chrono::milliseconds{0}, 0);
  EXPECT_EQ(off.maybe_trim(1'000), 0u);
  EXPECT_EQ(off.maybe_trim(1'000'000), 0u);
}

TEST(MemoryTrim, GivesAFreedBurstBackToTheKernelAndWaitsForTheInterval) {
  // 64 MiB in 16 KiB blocks (heap, not mmap), all touched, then one block after them so the
  // freed range is in the middle of the heap where glibc never returns it by itself.
  std::vector<void*> blocks;
  for (std::size_t i = 0; i < 64 * MiB / (16 * 1024); ++i) {
    void* p = std::malloc(16 * 1024);
    ASSERT_NE(p, nullptr);
    std::memset(p, 0x5a, 16 * 1024);
    blocks.push_back(p);
  }
  void* pin = std::malloc(64);
  ASSERT_NE(pin, nullptr);
  if (read_heap().in_use < 32 * MiB) {
    for (void* p : blocks) std::free(p);
    std::free(pin);
    GTEST_SKIP() << "malloc is not glibc's here (a sanitizer's allocator): nothing to trim";
  }
  const std::size_t loaded = resident_bytes();
  for (void* p : blocks) std::free(p);
  EXPECT_GE(read_heap().free, 32 * MiB);

  memory_trimmer trimmer(std::chrono::milliseconds{10'000}, 16 * MiB);
  const std::uint64_t t0 = 2'000'000;
  EXPECT_GE(trimmer.maybe_trim(t0), 32 * MiB);
  const std::size_t trimmed = resident_bytes();
  EXPECT_LE(trimmed + 48 * MiB, loaded) << "RSS " << loaded << " → " << trimmed;

  // The next look is one interval later, whatever the heap looks like meanwhile.
  for (void*& p : blocks) {
    p = std::malloc(16 * 1024);
    std::memset(p, 0x5a, 16 * 1024);
  }
  for (void* p : blocks) std::free(p);
  EXPECT_EQ(trimmer.maybe_trim(t0 + 9'999), 0u);
  EXPECT_GE(trimmer.maybe_trim(t0 + 10'000), 32 * MiB);
  std::free(pin);
}

}  // namespace
