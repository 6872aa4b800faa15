// SPDX-License-Identifier: MIT
// zlib_bytes(): the deflate and inflate streams count what zlib allocates (memory accounting of
// --max-memory), checked against zlib's documented formula (zconf.h: deflate needs
// (1 << (windowBits + 2)) + (1 << (memLevel + 9)) bytes, inflate 1 << windowBits, plus a few
// KiB of state each) and against the process heap.
#include <gtest/gtest.h>

#include <string>

#include "support/heap.hpp"
#include "ws/connection.hpp"
#include "ws/deflate.hpp"
#include "ws_test_util.hpp"

namespace ns::ws {
namespace {

using ns::test::heap_in_use;

std::span<const std::byte> as_bytes(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

struct deflate_case {
  int window_bits;
  int mem_level;
};

class ZlibBytes : public ::testing::TestWithParam<deflate_case> {};

TEST_P(ZlibBytes, CountsWhatZlibAllocates) {
  const auto [bits, mem_level] = GetParam();
  const std::string message(20'000, 'm');
  const std::size_t before = heap_in_use();
  deflater d(bits, false, {.level = 1, .mem_level = mem_level, .threshold = 0});
  inflater i(bits, false);
  EXPECT_EQ(d.zlib_bytes(), 0u);  // nothing until first use
  EXPECT_EQ(i.zlib_bytes(), 0u);
  byte_buffer compressed;
  ASSERT_TRUE(d.compress(as_bytes(message), compressed));
  byte_buffer plain;
  ASSERT_EQ(i.inflate(compressed.span(), plain, 1 << 20), inflate_status::ok);
  ASSERT_EQ(i.finish(plain, 1 << 20), inflate_status::ok);
  ASSERT_EQ(plain.size(), message.size());

  const std::size_t deflate_formula = (std::size_t{1} << (bits + 2)) + (1u << (mem_level + 9));
  const std::size_t inflate_formula = std::size_t{1} << bits;
  EXPECT_GE(d.zlib_bytes(), deflate_formula);
  EXPECT_LE(d.zlib_bytes(), deflate_formula + 16 * 1024);
  EXPECT_GE(i.zlib_bytes(), inflate_formula);
  EXPECT_LE(i.zlib_bytes(), inflate_formula + 16 * 1024);
  // Everything the two streams hold, and not much else, is on the heap now.
  const std::size_t heap = heap_in_use() - before - compressed.capacity() - plain.capacity();
  EXPECT_LE(d.zlib_bytes() + i.zlib_bytes(), heap + 256);
  // The counter sees the sizes zlib asks for; glibc's heap figure counts chunks: a header and
  // rounding to 16 bytes (up to 24 bytes more for each of zlib's 7 allocations here), and whole
  // pages for a chunk above the mmap threshold (memLevel 9: the hash table and the pending
  // buffer, 128 KiB each). ASan's figure is the bytes asked. Plus the streams' own few hundred.
  constexpr std::size_t per_allocation = 24, allocations = 8, streams_own = 1024;
  constexpr std::size_t mapped_rounding = 2 * 4096;
  EXPECT_GE(d.zlib_bytes() + i.zlib_bytes() + streams_own + per_allocation * allocations +
                mapped_rounding,
            heap);

  i.release();
  EXPECT_EQ(i.zlib_bytes(), 0u);
}

INSTANTIATE_TEST_SUITE_P(WindowAndMemLevel, ZlibBytes,
                         ::testing::Values(deflate_case{15, 8}, deflate_case{9, 1},
                                           deflate_case{12, 9}));

// A connection counts its own streams, and not a shared compressor (one per thread, not per
// connection); released streams leave the count.
TEST(ConnectionZlibBytes, CountsItsOwnStreams) {
  const std::string text(4000, 't');
  deflater peer(15, true);
  byte_buffer z;
  ASSERT_TRUE(peer.compress(as_bytes(text), z));
  const test::bytes compressed = test::raw_frame(0xC1, z.span());

  connection_options takeover;
  takeover.deflate.enabled = true;
  connection c(takeover);
  EXPECT_EQ(c.zlib_bytes(), 0u);
  ASSERT_EQ(c.feed(compressed).ev.type, event_type::message);
  const std::size_t inflate_only = c.zlib_bytes();
  EXPECT_GE(inflate_only, 32u * 1024);  // the 32 KiB window
  (void)c.encode_message(opcode::text, as_bytes(text));
  EXPECT_GE(c.zlib_bytes(), inflate_only + 256u * 1024);  // window + hash (memLevel 8)

  deflater shared(15, true);
  connection_options no_takeover;
  no_takeover.deflate.enabled = true;
  no_takeover.deflate.server_no_context_takeover = true;
  no_takeover.deflate.client_no_context_takeover = true;
  no_takeover.shared_compressor = &shared;
  connection d(no_takeover);
  ASSERT_EQ(d.feed(compressed).ev.type, event_type::message);
  (void)d.encode_message(opcode::text, as_bytes(text));
  EXPECT_GT(shared.zlib_bytes(), 256u * 1024);  // the shared one did the work
  EXPECT_EQ(d.zlib_bytes(), 0u);                // its inflater was released after the message
}

}  // namespace
}  // namespace ns::ws
