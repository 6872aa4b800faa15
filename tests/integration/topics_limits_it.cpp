// SPDX-License-Identifier: MIT
// Topics at their edges: the API guard's answers (HTTP, raw, stale, closing handles), the topic
// length limit, slow subscribers (skipped and counted, or closed with 1008), one compressed frame
// shared by every deflate subscriber, and two servers on one port (SO_REUSEPORT) sharing a hub.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "integration/topic_support.hpp"

namespace ns::test {
namespace {

TEST(TopicsLimits, ReturnCodesAndTheTopicLengthLimit) {
  topic_loops loops(1);
  topic_app& app = *loops.apps[0];
  auto c = topic_client(loops.port(0), {});
  ASSERT_TRUE(c);
  const std::string longest(max_topic_bytes, 'L');
  EXPECT_EQ(command_rc(*c, "sub " + longest), 0);
  EXPECT_EQ(command_rc(*c, "sub " + longest + "L"), -EINVAL);
  EXPECT_EQ(command_rc(*c, "unsub " + longest + "L"), -EINVAL);
  EXPECT_EQ(command_rc(*c, "sub a"), 0);
  EXPECT_EQ(command_rc(*c, "sub a"), -EEXIST);
  EXPECT_EQ(command_rc(*c, "unsub b"), -ENOENT);
  EXPECT_EQ(command_rc(*c, "unsub a"), 0);
  EXPECT_EQ(command_rc(*c, "unsub a"), -ENOENT);
  // After unsubscribing, "a" is not delivered; the 256-byte topic is (and arrives first).
  ASSERT_TRUE(c->send_text("pub a not for us"));
  ASSERT_TRUE(c->send_text("pub " + longest + "L too long"));
  ASSERT_TRUE(c->send_text("pub " + longest + " for us"));
  auto e = c->next_message();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->data, "for us");
  {
    std::lock_guard l(app.m);
    EXPECT_EQ(app.publish_rcs, std::vector<int>{-EINVAL});
  }
  EXPECT_EQ(loops.hub->publish(longest + "L", "x"), -EINVAL);
  EXPECT_EQ(app.stats().topics.subscriptions, 1u);

  // An HTTP connection: not a WebSocket (-EINVAL); a raw descriptor: another family (-EBADF).
  tls_client http;
  ASSERT_TRUE(http.connect(loops.port(0)));
  ASSERT_TRUE(http.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_EQ(http.read_response().body, "plain");
  {
    std::lock_guard l(app.m);
    EXPECT_EQ(app.http_subscribe_rc, -EINVAL);
    EXPECT_EQ(app.http_unsubscribe_rc, -EINVAL);
  }
  const int raw_rc = app.on_loop([&app] {
    int fds[2];
    if (pipe(fds) != 0) return 1;
    close(fds[1]);
    client_num_t h = invalid_client;
    if (app.loop().raw_adopt(fds[0], h) != 0) return 2;
    const int rc = app.loop().subscribe(h, "x");
    app.loop().raw_close(h);
    return rc;
  });
  EXPECT_EQ(raw_rc, -EBADF);
  EXPECT_EQ(app.on_loop([&app] { return app.loop().subscribe(invalid_client, "x"); }), -EBADF);

  // Closing: after our close frame, no new subscription (-EPIPE).
  ASSERT_TRUE(c->send_text("closeme"));
  e = c->next_message();  // our close frame; the client answers it
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, ws::event_type::close);
  ASSERT_TRUE(app.wait([](ws_record& r) { return r.ws_close_calls == 1; }));
  std::lock_guard l(app.m);
  EXPECT_EQ(app.closing_rc, -EPIPE);
  EXPECT_EQ(app.stale_rc, -EBADF);
}

void slow_subscriber(bool close_slow) {
  topic_loops loops(1, [close_slow](server_config& cfg) {
    cfg.max_queued_output = 256 * 1024;
    cfg.websocket.deflate = ws_deflate_mode::off;
    cfg.websocket.close_slow_receivers = close_slow;
    cfg.websocket.close_timeout = std::chrono::milliseconds(300);
  });
  topic_app& app = *loops.apps[0];
  auto fast = topic_client(loops.port(0), {"s"});
  auto slow = topic_client(loops.port(0), {"s"});  // never reads again
  ASSERT_TRUE(fast && slow);
  const std::string block = make_payload(64 * 1024, true);
  int i = 0;
  // 400 × 64 KiB: far more than the socket buffers plus the queue bound.
  for (; i < 400; ++i) {
    const std::string msg = std::to_string(i) + " " + block;
    ASSERT_TRUE(fast->send_text("pub s " + msg));
    const auto e = fast->next_message();
    ASSERT_TRUE(e) << i;
    ASSERT_EQ(e->data, msg) << "the fast subscriber is never delayed";
    if (close_slow && app.stats().topics.dropped_slow >= 1) break;
  }
  const topic_counters t = app.stats().topics;
  if (!close_slow) {
    EXPECT_GT(t.dropped_slow, 0u);
    EXPECT_LT(t.dropped_slow, 400u);
    EXPECT_EQ(t.delivered, 400u + (400u - t.dropped_slow));
    return;
  }
  ASSERT_LT(i, 400) << "the slow subscriber was never dropped";
  ASSERT_TRUE(app.wait([](ws_record& r) { return r.ws_close_calls == 1; }));
  EXPECT_EQ(app.stats().topics.dropped_slow, 1u);   // skipped once, then closed
  EXPECT_EQ(app.stats().topics.subscriptions, 1u);  // it left the topic as it closed
  std::lock_guard l(app.rec.m);
  EXPECT_EQ(app.rec.ws_closed.begin()->second, 1006);  // never answered our 1008
}

TEST(TopicsLimits, SlowSubscriberIsSkippedAndCounted) {
  slow_subscriber(false);
}

TEST(TopicsLimits, SlowSubscriberIsClosedWith1008WhenConfigured) {
  slow_subscriber(true);
}

// Every deflate subscriber, on both loops, gets each message as one compressed frame (RSV1)
// with the same bytes; plain subscribers get plain frames.
TEST(TopicsLimits, SharedDeflateCompressesOnceForEverySubscriber) {
  topic_loops loops(2);  // ws_deflate_mode::shared is the default
  std::vector<std::unique_ptr<ws_client>> subs;
  for (std::size_t l = 0; l < 2; ++l) {
    for (int i = 0; i < 4; ++i) {
      ws_client::options o;
      o.deflate = i != 3;
      o.keep_received = true;
      subs.push_back(topic_client(loops.port(l), {"z"}, o));
      ASSERT_TRUE(subs.back());
      ASSERT_EQ(subs.back()->deflate_agreed(), o.deflate);
    }
  }
  constexpr int messages = 20;
  for (int j = 0; j < messages; ++j) {
    const std::string msg = "0 " + std::to_string(j) + " " + std::string(120, 'q');
    ASSERT_TRUE(subs[0]->send_text("pub z " + msg));
    for (auto& c : subs) {
      const auto e = c->next_message();
      ASSERT_TRUE(e);
      ASSERT_EQ(e->data, msg);
    }
  }
  std::vector<wire_frame> shared;
  for (std::size_t i = 0; i < subs.size(); ++i) {
    std::vector<wire_frame> got = data_frames(subs[i]->received());
    ASSERT_EQ(got.size(), messages + 1u) << i;  // the "rc 0" of "sub z" first
    got.erase(got.begin());
    for (const wire_frame& f : got) ASSERT_EQ(f.rsv1, subs[i]->deflate_agreed()) << i;
    if (!subs[i]->deflate_agreed()) continue;
    if (shared.empty()) {
      shared = got;
      for (const wire_frame& f : shared) EXPECT_LT(f.payload.size(), 100u) << "not compressed";
      continue;
    }
    for (std::size_t m = 0; m < got.size(); ++m) ASSERT_EQ(got[m].payload, shared[m].payload);
  }
  EXPECT_FALSE(shared.empty());
}

TEST(TopicsLimits, TwoServersOnOnePortShareTheHub) {
  const std::uint16_t port = free_port();
  ASSERT_NE(port, 0);
  topic_loops loops(2, [port](server_config& cfg) {
    cfg.port = port;
    cfg.reuse_port = true;
  });
  // The kernel spreads connections over both listeners; connect until both loops hold some.
  std::vector<std::unique_ptr<ws_client>> subs;
  for (int i = 0; i < 64; ++i) {
    subs.push_back(topic_client(port, {"r"}));
    ASSERT_TRUE(subs.back());
    if (i >= 3 && loops.apps[0]->stats().topics.subscriptions > 0 &&
        loops.apps[1]->stats().topics.subscriptions > 0) {
      break;
    }
  }
  ASSERT_GT(loops.apps[0]->stats().topics.subscriptions, 0u);
  ASSERT_GT(loops.apps[1]->stats().topics.subscriptions, 0u);
  ASSERT_TRUE(subs.front()->send_text("pub r 0 0 hello"));
  for (auto& c : subs) {
    const auto e = c->next_message();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->data, "0 0 hello");
  }
}

}  // namespace
}  // namespace ns::test
