// SPDX-License-Identifier: MIT
// websocket_broadcast end to end: 100 TLS clients each receive every message exactly once and
// in order (with and without the shared compressor, and mixed), and a receiver that does not
// read is skipped without delaying the others.
#include <gtest/gtest.h>

#include <list>
#include <set>

#include "integration/ws_support.hpp"

namespace ns::test {
namespace {

// The concept accepts ranges of any integer type and rejects others.
static_assert(client_num_range<std::vector<client_num_t>>);
static_assert(client_num_range<std::set<int>>);
static_assert(client_num_range<std::list<unsigned short>&>);
static_assert(!client_num_range<std::vector<std::string>>);
static_assert(!client_num_range<int>);

void run_broadcast(bool deflate_all, bool mixed) {
  ws_server s;
  constexpr int clients = 100;
  constexpr int senders = 4;
  constexpr int per_sender = 25;
  std::vector<std::unique_ptr<ws_client>> cs;
  for (int i = 0; i < clients; ++i) {
    auto c = std::make_unique<ws_client>();
    ws_client::options o;
    o.path = "/chat";
    o.deflate = mixed ? (i % 2 == 0) : deflate_all;
    o.timeout = std::chrono::seconds(30);
    o.keep_received = true;
    ASSERT_TRUE(c->connect(s.port(), o)) << c->error();
    ASSERT_EQ(c->status(), 101);
    // An offer is agreed, with server_no_context_takeover: what lets one frame serve all.
    ASSERT_EQ(c->deflate_agreed(), o.deflate) << c->head();
    if (o.deflate) {
      ASSERT_NE(c->header("sec-websocket-extensions").find("server_no_context_takeover"),
                std::string::npos)
          << c->head();
    }
    cs.push_back(std::move(c));
  }
  ASSERT_TRUE(s.app().wait([&](ws_record& r) { return r.opened.size() == clients; }));
  // Senders interleave; each message is long enough to be compressed (threshold 64).
  for (int j = 0; j < per_sender; ++j) {
    for (int k = 0; k < senders; ++k) {
      const std::string msg = "sender " + std::to_string(k) + " message " + std::to_string(j) +
                              " " + std::string(100, static_cast<char>('a' + k));
      ASSERT_TRUE(cs[static_cast<std::size_t>(k)]->send_text(msg));
    }
  }
  for (int i = 0; i < clients; ++i) {
    std::vector<int> next(senders, 0);
    for (int m = 0; m < senders * per_sender; ++m) {
      auto e = cs[static_cast<std::size_t>(i)]->next_message();
      ASSERT_TRUE(e) << "client " << i << " message " << m;
      ASSERT_EQ(e->type, ws::event_type::message);
      ASSERT_EQ(e->op, ws::opcode::text);
      int k = -1, j = -1;
      ASSERT_EQ(std::sscanf(e->data.c_str(), "sender %d message %d", &k, &j), 2) << e->data;
      ASSERT_TRUE(k >= 0 && k < senders);
      // Exactly once and in order per sender: the next expected index, nothing else.
      ASSERT_EQ(j, next[static_cast<std::size_t>(k)]) << "client " << i << " sender " << k;
      ++next[static_cast<std::size_t>(k)];
      EXPECT_EQ(e->data, "sender " + std::to_string(k) + " message " + std::to_string(j) + " " +
                             std::string(100, static_cast<char>('a' + k)));
    }
  }
  // On the wire: every deflate receiver got each message as a compressed frame (RSV1), the
  // same bytes for all of them (one compression, shared); plain receivers got plain frames.
  std::vector<wire_frame> shared;
  for (int i = 0; i < clients; ++i) {
    const ws_client& c = *cs[static_cast<std::size_t>(i)];
    const std::vector<wire_frame> got = data_frames(c.received());
    ASSERT_EQ(got.size(), static_cast<std::size_t>(senders * per_sender)) << "client " << i;
    for (std::size_t m = 0; m < got.size(); ++m) {
      ASSERT_EQ(got[m].rsv1, c.deflate_agreed()) << "client " << i << " frame " << m;
    }
    if (!c.deflate_agreed()) continue;
    if (shared.empty()) {
      shared = got;
      for (const auto& f : shared) EXPECT_LT(f.payload.size(), 100u) << "not compressed";
      continue;
    }
    for (std::size_t m = 0; m < got.size(); ++m) {
      ASSERT_EQ(got[m].payload, shared[m].payload) << "client " << i << " frame " << m;
    }
  }
  EXPECT_EQ(shared.empty(), !deflate_all && !mixed);
  std::lock_guard l(s.app().rec.m);
  EXPECT_EQ(s.app().rec.last_broadcast.queued, static_cast<std::size_t>(clients));
  EXPECT_EQ(s.app().rec.broadcast_slow_total, 0u);
}

TEST(WsBroadcast, HundredClientsGetEveryMessageOnceInOrder) {
  run_broadcast(false, false);
}
TEST(WsBroadcast, HundredCompressedClientsShareOneCompressedFrame) {
  run_broadcast(true, false);
}
TEST(WsBroadcast, MixedCompressedAndPlainReceivers) {
  run_broadcast(false, true);
}

TEST(WsBroadcast, SlowReceiverIsSkippedAndNeverDelaysTheOthers) {
  ws_server s([](server_config& cfg) {
    cfg.max_queued_output = 256 * 1024;
    cfg.websocket.deflate = ws_deflate_mode::off;
  });
  ws_client fast, slow;
  ws_client::options o;
  o.path = "/chat";
  ASSERT_TRUE(fast.connect(s.port(), o)) << fast.error();
  ASSERT_TRUE(slow.connect(s.port(), o)) << slow.error();  // never reads
  ASSERT_TRUE(s.app().wait([](ws_record& r) { return r.opened.size() == 2; }));
  const std::string block = make_payload(64 * 1024, false);
  constexpr int rounds = 400;  // 25 MiB: far more than the socket buffers plus the queue bound
  for (int i = 0; i < rounds; ++i) {
    std::string msg = block;
    std::memcpy(msg.data(), &i, sizeof(i));
    ASSERT_TRUE(fast.send(ws::opcode::binary, msg));
    auto e = fast.next_message();
    ASSERT_TRUE(e) << i;
    int got = -1;
    std::memcpy(&got, e->data.data(), sizeof(got));
    ASSERT_EQ(got, i);
  }
  std::lock_guard l(s.app().rec.m);
  EXPECT_GT(s.app().rec.broadcast_slow_total, 0u);
  EXPECT_LT(s.app().rec.broadcast_slow_total, static_cast<std::size_t>(rounds));
}

TEST(WsBroadcast, SlowReceiverIsClosedWith1008WhenConfigured) {
  ws_server s([](server_config& cfg) {
    cfg.max_queued_output = 256 * 1024;
    cfg.websocket.deflate = ws_deflate_mode::off;
    cfg.websocket.close_slow_receivers = true;
    cfg.websocket.close_timeout = std::chrono::milliseconds(300);
  });
  ws_client fast, slow;
  ws_client::options o;
  o.path = "/chat";
  ASSERT_TRUE(fast.connect(s.port(), o)) << fast.error();
  ASSERT_TRUE(slow.connect(s.port(), o)) << slow.error();  // never reads
  ASSERT_TRUE(s.app().wait([](ws_record& r) { return r.opened.size() == 2; }));
  const std::string block = make_payload(64 * 1024, false);
  int i = 0;
  // Broadcast until the slow receiver has been dropped; the fast one keeps getting everything.
  for (; i < 1000; ++i) {
    ASSERT_TRUE(fast.send(ws::opcode::binary, block));
    auto e = fast.next_message();
    ASSERT_TRUE(e) << i;
    ASSERT_EQ(e->data.size(), block.size());
    std::lock_guard l(s.app().rec.m);
    if (s.app().rec.broadcast_slow_total >= 1 || s.app().rec.ws_close_calls == 1) break;
  }
  ASSERT_LT(i, 1000) << "the slow receiver was never dropped";
  // Our close frame went out at once; the connection ends when the close timeout (300 ms)
  // passes without an answer — in an optimised build the loop above is faster than that.
  ASSERT_TRUE(s.app().wait([](ws_record& r) { return r.ws_close_calls == 1; }))
      << "the slow receiver was never closed";
  std::lock_guard l(s.app().rec.m);
  EXPECT_EQ(s.app().rec.broadcast_slow_total, 1u);  // skipped once, then closed
  // It never read our close frame, so it never answered: the close timeout ended it (1006).
  EXPECT_EQ(s.app().rec.ws_closed.begin()->second, 1006);
}

}  // namespace
}  // namespace ns::test
