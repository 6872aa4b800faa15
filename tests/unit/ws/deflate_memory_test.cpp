// SPDX-License-Identifier: MIT
// Heap bytes held per connection after one compressed message each way, per deflate memory
// mode (RFC 7692 §7.1.1 context takeover vs. no context takeover + shared compressor).
#include <gtest/gtest.h>

#include <cstdio>

#include "support/heap.hpp"
#include "ws/deflate.hpp"
#include "ws_test_util.hpp"

namespace ns::ws {
namespace {

using ns::test::heap_in_use;

constexpr int instances = 1000;

std::size_t bytes_per_connection(const connection_options& o, const test::bytes& in_frame,
                                 const test::bytes& out_msg) {
  std::vector<std::unique_ptr<connection>> conns;
  conns.reserve(instances);
  const std::size_t before = heap_in_use();
  for (int i = 0; i < instances; ++i) {
    auto c = std::make_unique<connection>(o);
    const feed_result r = c->feed(in_frame);
    EXPECT_EQ(r.ev.type, event_type::message);
    const encoded_frame f = c->encode_message(opcode::text, out_msg);
    EXPECT_GT(f.size(), 0u);
    conns.push_back(std::move(c));
  }
  const std::size_t after = heap_in_use();
  return (after - before) / instances;
}

TEST(WsDeflateMemory, BytesPerConnectionInEachMode) {
  const test::bytes msg = test::to_bytes(std::string(200, 'm') + "-end of a small chat message");
  deflater client_side(15, true);
  byte_buffer z;
  ASSERT_TRUE(client_side.compress(msg, z));
  const test::bytes compressed = test::raw_frame(0xC1, z.span());
  const test::bytes plain = test::raw_frame(0x81, msg);

  connection_options none;
  connection_options takeover;
  takeover.deflate.enabled = true;
  deflater shared(15, true);
  connection_options shared_mode;
  shared_mode.deflate.enabled = true;
  shared_mode.deflate.server_no_context_takeover = true;
  shared_mode.deflate.client_no_context_takeover = true;
  shared_mode.shared_compressor = &shared;

  const std::size_t a = bytes_per_connection(none, plain, msg);
  const std::size_t b = bytes_per_connection(takeover, compressed, msg);
  const std::size_t c = bytes_per_connection(shared_mode, compressed, msg);
  std::printf(
      "[ws memory] bytes/connection after one message each way: no deflate %zu, "
      "context takeover %zu, shared compressor + no takeover %zu\n",
      a, b, c);
  RecordProperty("bytes_no_deflate", static_cast<int>(a));
  RecordProperty("bytes_context_takeover", static_cast<int>(b));
  RecordProperty("bytes_shared_no_takeover", static_cast<int>(c));
  EXPECT_GT(b, 100u * 1024);  // zlib deflate + inflate state with 32 KiB windows
  EXPECT_LT(c, a + 4096);  // no zlib state (inflate alone is ~7 KiB + window) on idle connections
}

}  // namespace
}  // namespace ns::ws
