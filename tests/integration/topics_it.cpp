// SPDX-License-Identifier: MIT
// Topics end to end over TLS WebSockets, across loops (servers sharing one topic_hub): every
// subscriber on every loop gets each message once and in each publisher's order, publishes from
// a foreign thread, closed connections leave their topics, the engine sees the process's first
// and last subscriber of each topic and every local publish, and injected remote messages.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>

#include "integration/topic_support.hpp"

namespace ns::test {
namespace {

// Reads @p count messages "P J ..." from @p c; each publisher P's J must count up from 0.
void expect_in_order(ws_client& c, int count, int publishers, const std::string& who) {
  std::vector<int> next(static_cast<std::size_t>(publishers), 0);
  for (int m = 0; m < count; ++m) {
    const auto e = c.next_message();
    ASSERT_TRUE(e) << who << " message " << m;
    ASSERT_EQ(e->type, ws::event_type::message) << who;
    int p = -1, j = -1;
    ASSERT_EQ(std::sscanf(e->data.c_str(), "%d %d", &p, &j), 2) << who << ": " << e->data;
    ASSERT_TRUE(p >= 0 && p < publishers) << e->data;
    ASSERT_EQ(j, next[static_cast<std::size_t>(p)]) << who << " publisher " << p;
    ++next[static_cast<std::size_t>(p)];
  }
}

TEST(Topics, EverySubscriberOnEveryLoopGetsEachMessageOnceInPublishOrder) {
  topic_loops loops(2);
  std::vector<std::unique_ptr<ws_client>> news, sports, publishers;
  for (std::size_t l = 0; l < 2; ++l) {
    for (int i = 0; i < 3; ++i) news.push_back(topic_client(loops.port(l), {"news"}));
    sports.push_back(topic_client(loops.port(l), {"sports"}));
    publishers.push_back(topic_client(loops.port(l), {}));  // not subscribed to anything
  }
  for (const auto& c : news) ASSERT_TRUE(c);
  for (const auto& c : sports) ASSERT_TRUE(c);
  for (const auto& c : publishers) ASSERT_TRUE(c);
  // Both publishers interleave 1000 messages each: one loop's arrive at once on its own loop
  // and through post() on the other.
  constexpr int per_publisher = 1000;
  for (int j = 0; j < per_publisher; ++j) {
    for (int p = 0; p < 2; ++p) {
      ASSERT_TRUE(publishers[static_cast<std::size_t>(p)]->send_text(
          "pub news " + std::to_string(p) + " " + std::to_string(j) + " payload"));
    }
  }
  ASSERT_TRUE(publishers[0]->send_text("pub sports 0 0 end"));
  for (std::size_t i = 0; i < news.size(); ++i) {
    expect_in_order(*news[i], 2 * per_publisher, 2, "news subscriber " + std::to_string(i));
  }
  for (const auto& c : sports) {  // nothing of "news" came first
    const auto e = c->next_message();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->data, "0 0 end");
  }
  std::uint64_t delivered = 0;
  for (std::size_t l = 0; l < 2; ++l) {
    const topic_counters t = loops.apps[l]->stats().topics;
    EXPECT_EQ(t.topics, 2u) << l;
    EXPECT_EQ(t.subscriptions, 4u) << l;
    EXPECT_EQ(t.published, l == 0 ? per_publisher + 1u : per_publisher + 0u) << l;
    EXPECT_EQ(t.dropped_slow, 0u) << l;
    delivered += t.delivered;
  }
  EXPECT_EQ(delivered, 6u * 2 * per_publisher + 2);
  const topic_hub_stats h = loops.hub->stats();
  EXPECT_EQ(h.topics, 2u);
  EXPECT_EQ(h.published, 2u * per_publisher + 1);
}

TEST(Topics, PublishFromAForeignThreadReachesEveryLoopInOrder) {
  topic_loops loops(2);
  std::vector<std::unique_ptr<ws_client>> subs;
  for (std::size_t l = 0; l < 2; ++l) {
    for (int i = 0; i < 2; ++i) subs.push_back(topic_client(loops.port(l), {"feed"}));
  }
  for (const auto& c : subs) ASSERT_TRUE(c);
  // This thread is no loop's: every message goes through post(), to both loops. The hub and
  // a server's publish are the same call.
  for (int j = 0; j < 1000; ++j) {
    const std::string msg = "0 " + std::to_string(j);
    if (j % 2 == 0) {
      ASSERT_EQ(loops.hub->publish("feed", msg), 0);
    } else {
      ASSERT_EQ(loops.apps[1]->loop().publish("feed", msg), 0);
    }
  }
  for (std::size_t i = 0; i < subs.size(); ++i) {
    expect_in_order(*subs[i], 1000, 1, "subscriber " + std::to_string(i));
  }
  EXPECT_EQ(loops.hub->stats().published, 1000u);
  // Counted in the hub only: no loop made these publishes.
  EXPECT_EQ(loops.apps[0]->stats().topics.published, 0u);
  EXPECT_EQ(loops.apps[0]->stats().topics.delivered + loops.apps[1]->stats().topics.delivered,
            4000u);
}

TEST(Topics, ClosedConnectionsLeaveTheirTopics) {
  topic_loops loops(2);
  auto engine = std::make_shared<recording_engine>();
  loops.hub->set_engine(engine);
  std::vector<std::unique_ptr<ws_client>> cs;
  for (std::size_t l = 0; l < 2; ++l) {
    cs.push_back(topic_client(loops.port(l), {"a", "b"}));
    cs.push_back(topic_client(loops.port(l), {"a"}));
  }
  for (const auto& c : cs) ASSERT_TRUE(c);
  EXPECT_EQ(loops.apps[0]->stats().topics.subscriptions, 3u);
  EXPECT_EQ(loops.hub->stats().topics, 2u);
  // Two close cleanly, two just drop TCP: both paths leave every topic.
  ASSERT_TRUE(cs[0]->send_frame(0x88, std::string("\x03\xe8", 2)));
  ASSERT_TRUE(cs[3]->send_frame(0x88, std::string("\x03\xe8", 2)));
  cs[1].reset();
  cs[2].reset();
  for (auto& a : loops.apps) {
    ASSERT_TRUE(a->wait([](ws_record& r) { return r.ws_close_calls == 2; }));
  }
  for (std::size_t l = 0; l < 2; ++l) {
    const topic_counters t = loops.apps[l]->stats().topics;
    EXPECT_EQ(t.topics, 0u) << l;
    EXPECT_EQ(t.subscriptions, 0u) << l;
    std::lock_guard g(loops.apps[l]->m);
    EXPECT_EQ(loops.apps[l]->stale_rc, -EBADF) << "subscribe with a dead handle";
  }
  EXPECT_EQ(loops.hub->stats().topics, 0u);
  std::lock_guard g(engine->m);
  // One channel subscription per topic and process, whatever the loops and connections did.
  const std::multiset<std::string> seen(engine->events.begin(), engine->events.end());
  EXPECT_EQ(seen, (std::multiset<std::string>{"+a", "+b", "-a", "-b"}));
  for (const char* t : {"a", "b"}) {
    const auto first =
        std::find(engine->events.begin(), engine->events.end(), "+" + std::string(t));
    const auto last = std::find(engine->events.begin(), engine->events.end(), "-" + std::string(t));
    EXPECT_LT(first, last) << t;
  }
}

TEST(Topics, EngineGetsLocalPublishesAndInjectsRemoteOnes) {
  topic_loops loops(2);
  auto sub0 = topic_client(loops.port(0), {"room"});
  auto sub1 = topic_client(loops.port(1), {"room"});
  ASSERT_TRUE(sub0 && sub1);
  auto engine = std::make_shared<recording_engine>();
  loops.hub->set_engine(engine);  // set late: the topic already held is announced
  ASSERT_TRUE(sub0->send_text("pub room 0 0 local"));
  for (ws_client* c : {sub0.get(), sub1.get()}) {
    const auto e = c->next_message();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->data, "0 0 local");
  }
  const std::string_view own = loops.hub->origin();
  EXPECT_EQ(own.size(), 32u);
  EXPECT_NE(own, topic_hub::create()->origin());
  const auto text = [](std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); };
  // Our own message back from the engine: dropped, the subscribers have it already.
  EXPECT_EQ(loops.hub->inject(own, "room", text("0 1 echo"), ws_message_type::text), 0);
  // Another instance's: every loop with a subscriber gets it; the engine does not get it back.
  EXPECT_EQ(loops.hub->inject("elsewhere", "room", text("0 1 remote"), ws_message_type::text), 2);
  EXPECT_EQ(loops.hub->inject("elsewhere", "nobody", text("x"), ws_message_type::text), 0);
  EXPECT_EQ(loops.hub->inject("elsewhere", std::string(257, 't'), text("x"), ws_message_type::text),
            -EINVAL);
  for (ws_client* c : {sub0.get(), sub1.get()}) {
    const auto e = c->next_message();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->data, "0 1 remote");
  }
  const topic_hub_stats h = loops.hub->stats();
  EXPECT_EQ(h.injected, 2u);
  EXPECT_EQ(h.published, 1u);
  sub0.reset();
  sub1.reset();
  for (auto& a : loops.apps) {
    ASSERT_TRUE(a->wait([](ws_record& r) { return r.ws_close_calls == 1; }));
  }
  std::lock_guard g(engine->m);
  EXPECT_EQ(engine->events, (std::vector<std::string>{"+room", "pub room 0 0 local", "-room"}));
}

}  // namespace
}  // namespace ns::test
