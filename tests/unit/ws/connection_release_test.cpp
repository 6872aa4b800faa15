// SPDX-License-Identifier: MIT
// release_idle_buffers(): an idle connection gives back its message and output buffers and the
// zlib state no context takeover lets go, and keeps everything a message in progress or a
// context-takeover stream still needs.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "support/heap.hpp"
#include "ws/deflate.hpp"
#include "ws_test_util.hpp"

namespace ns::ws {
namespace {

using ns::test::heap_in_use;
using test::bytes;

TEST(WsConnectionRelease, IdleConnectionsHoldNoMessageBuffers) {
  constexpr int n = 200;
  const std::string big(16 * 1024, 'x');
  const bytes frame = test::raw_frame(0x82, big);
  const bytes ping = test::raw_frame(0x89, "p");
  std::vector<std::unique_ptr<connection>> conns;
  conns.reserve(n);
  const std::size_t before = heap_in_use();
  for (int i = 0; i < n; ++i) {
    auto c = std::make_unique<connection>(connection_options{});
    ASSERT_EQ(c->feed(frame).ev.type, event_type::message);
    ASSERT_EQ(c->feed(ping).ev.type, event_type::ping);
    c->consume_output(c->pending_output().size());  // the pong was sent
    ASSERT_TRUE(c->release_idle_buffers());
    conns.push_back(std::move(c));
  }
  const std::size_t per = (heap_in_use() - before) / n;
  std::printf("[ws memory] idle connection after a 16 KiB message, released: %zu bytes\n", per);
  // The connection object itself (~400 bytes); a kept 16 KiB message buffer would show.
  EXPECT_LT(per, 1024u);
  // And they work on: the next message arrives whole.
  const auto r = conns.front()->feed(test::raw_frame(0x81, "after"));
  ASSERT_EQ(r.ev.type, event_type::message);
  EXPECT_EQ(r.ev.text(), "after");
}

TEST(WsConnectionRelease, KeptWhileAFrameIsPartlyReceived) {
  connection c(connection_options{});
  const std::string payload(1000, 'a');
  const bytes frame = test::raw_frame(0x81, payload);
  const std::span<const std::byte> all(frame);
  EXPECT_EQ(c.feed(all.first(300)).ev.type, event_type::none);
  EXPECT_FALSE(c.release_idle_buffers());
  const auto r = c.feed(all.subspan(300));
  ASSERT_EQ(r.ev.type, event_type::message);
  EXPECT_EQ(r.ev.text(), payload);
}

TEST(WsConnectionRelease, KeptWhileAFragmentedMessageIsOpen) {
  connection c(connection_options{});
  EXPECT_EQ(c.feed(test::raw_frame(0x01, "first ")).ev.type, event_type::none);
  EXPECT_FALSE(c.release_idle_buffers());
  const auto r = c.feed(test::raw_frame(0x80, "second"));
  ASSERT_EQ(r.ev.type, event_type::message);
  EXPECT_EQ(r.ev.text(), "first second");
}

TEST(WsConnectionRelease, UnsentProtocolOutputSurvives) {
  connection c(connection_options{});
  ASSERT_EQ(c.feed(test::raw_frame(0x89, "ping-body")).ev.type, event_type::ping);
  const std::string pong = test::to_string(c.pending_output());
  ASSERT_FALSE(pong.empty());
  EXPECT_TRUE(c.release_idle_buffers());
  EXPECT_EQ(test::to_string(c.pending_output()), pong);
}

TEST(WsConnectionRelease, ContextTakeoverHistorySurvives) {
  connection_options o;
  o.deflate.enabled = true;  // both directions keep their history (no no_context_takeover)
  connection c(o);
  deflater client(15, false);  // the peer's compressor, history kept across messages
  const std::string msg = "a message that repeats itself: the second copy is all back references";
  for (int i = 0; i < 3; ++i) {
    byte_buffer z;
    ASSERT_TRUE(client.compress(test::to_bytes(msg), z));
    const auto r = c.feed(test::raw_frame(0xC1, z.span()));
    ASSERT_EQ(r.ev.type, event_type::message) << "message " << i;
    EXPECT_EQ(r.ev.text(), msg);
    EXPECT_TRUE(c.release_idle_buffers());
    EXPECT_TRUE(c.inflater_allocated());  // its window is the peer's reference
  }
}

TEST(WsConnectionRelease, NoContextTakeoverInflaterIsFreed) {
  connection_options o;
  o.deflate.enabled = true;
  o.deflate.client_no_context_takeover = true;
  o.deflate.server_no_context_takeover = true;
  o.release_idle_inflater = false;  // kept between messages by choice, freed when idle
  connection c(o);
  deflater client(15, true);
  for (int i = 0; i < 2; ++i) {
    byte_buffer z;
    ASSERT_TRUE(client.compress(test::to_bytes("hello hello hello hello"), z));
    const auto r = c.feed(test::raw_frame(0xC1, z.span()));
    ASSERT_EQ(r.ev.type, event_type::message);
    EXPECT_EQ(r.ev.text(), "hello hello hello hello");
    EXPECT_TRUE(c.inflater_allocated());
    const std::string reply(200, 'r');
    EXPECT_GT(c.encode_message(opcode::text, test::to_bytes(reply)).size(), 0u);
    EXPECT_TRUE(c.release_idle_buffers());
    EXPECT_FALSE(c.inflater_allocated());
  }
}

}  // namespace
}  // namespace ns::ws
