// SPDX-License-Identifier: MIT
// Two ns_serve instances (two loops each) joined by a real redis-server: a /ws/chat room spans
// both; a message arrives once everywhere, in publish order; and delivery survives Redis being
// unreachable at start, killed and restarted (cross-instance delivery back within 2 s, every
// live room subscribed again, no descriptor left behind).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "integration/redis_cluster_util.hpp"

namespace ns::test {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

TEST(RedisCluster, ARoomSpansInstancesOnceAndInOrder) {
  two_instances t;
  ASSERT_TRUE(t.ok());
  redis_server& redis = t.redis;
  instance &a = t.a, &b = t.b;
  ASSERT_TRUE(eventually([&] { return a.connected() && b.connected(); }));
  auto a1 = chat(a.port(), "r");
  auto b1 = chat(b.port(), "r");
  ASSERT_TRUE(a1 && b1);
  ASSERT_TRUE(eventually([&] { return numsub(redis, "ns:chat/r") == 2; }));

  ASSERT_TRUE(b1->send_text("hello from b"));
  EXPECT_EQ(next_text(*a1), "hello from b");
  EXPECT_EQ(next_text(*b1), "hello from b");  // locally, not again through Redis (below)
  ASSERT_TRUE(a1->send_text("hello from a"));
  EXPECT_EQ(next_text(*b1), "hello from a");
  EXPECT_EQ(next_text(*a1), "hello from a");

  // One publisher's messages keep their order across instances.
  constexpr int n = 1000;
  char text[16];
  for (int i = 0; i < n; ++i) {
    std::snprintf(text, sizeof(text), "b%04d", i);
    ASSERT_TRUE(b1->send_text(text));
  }
  for (auto* c : {a1.get(), b1.get()}) {
    for (int i = 0; i < n; ++i) {
      std::snprintf(text, sizeof(text), "b%04d", i);
      ASSERT_EQ(next_text(*c), text) << (c == a1.get() ? "on A" : "on B");
    }
  }
  // A duplicate of anything above would arrive before this.
  ASSERT_TRUE(b1->send_text("end"));
  EXPECT_EQ(next_text(*a1), "end");
  EXPECT_EQ(next_text(*b1), "end");

  EXPECT_TRUE(eventually([&] {
    const std::string ja = a.redis_json(), jb = b.redis_json();
    return json_number(ja, "received") == n + 2 && json_number(ja, "own_echoes") == 1 &&
           json_number(ja, "published") == 1 && json_number(jb, "received") == 1 &&
           json_number(jb, "own_echoes") == n + 2 && json_number(jb, "published") == n + 2;
  })) << a.redis_json()
      << "\n"
      << b.redis_json();
  for (auto* i : {&a, &b}) {
    EXPECT_NE(i->redis_json().find(no_drops), std::string::npos) << i->redis_json();
    EXPECT_EQ(i->process().stop(SIGTERM, 10s), 0) << i->process().stderr_text();
  }
}

TEST(RedisCluster, UnreachableAtStartServesLocallyLogsOnceAndConnectsLater) {
  const std::uint16_t port = free_port();
  temp_dir root;
  instance a("redis://127.0.0.1:" + std::to_string(port), root);
  ASSERT_TRUE(a.up());
  auto a1 = chat(a.port(), "r");
  auto a2 = chat(a.port(), "r");
  ASSERT_TRUE(a1 && a2);
  ASSERT_TRUE(a1->send_text("local"));
  EXPECT_EQ(next_text(*a1), "local");
  EXPECT_EQ(next_text(*a2), "local");
  std::this_thread::sleep_for(1500ms);  // retries at ~0.1, 0.2, 0.4, 0.8 s …
  EXPECT_FALSE(a.connected());
  EXPECT_EQ(a.redis_log_lines(), 1) << a.process().stderr_text();
  EXPECT_NE(a.process().stderr_text().find("redis: cannot reach redis://127.0.0.1:" +
                                           std::to_string(port) + " (Connection refused)"),
            std::string::npos)
      << a.process().stderr_text();

  redis_server redis("", port);
  ASSERT_TRUE(redis.ok()) << redis.log();
  const auto started = clock_type::now();
  ASSERT_TRUE(eventually([&] { return a.connected(); }, 3s));
  const auto took = clock_type::now() - started;
  std::printf(
      "[ figures ] connected %lld ms after redis-server answered\n",
      static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
  EXPECT_LT(took, 2s);
  EXPECT_EQ(numsub(redis, "ns:chat/r"), 1) << "the live room was subscribed on connect";

  instance b(redis.url(), root);
  ASSERT_TRUE(b.up());
  auto b1 = chat(b.port(), "r");
  ASSERT_TRUE(b1);
  ASSERT_TRUE(eventually([&] { return numsub(redis, "ns:chat/r") == 2; }));
  ASSERT_TRUE(b1->send_text("across"));
  EXPECT_EQ(next_text(*a1), "across");
  EXPECT_EQ(next_text(*a2), "across");
  EXPECT_NE(a.process().stderr_text().find("redis: connected to"), std::string::npos);
  EXPECT_EQ(a.process().stop(SIGTERM, 10s), 0) << a.process().stderr_text();
}

// While Redis is down, local delivery goes on; publishes from its loops wait (bounded).
// The cross-instance probe is published every 50 ms from A until B hears one.
TEST(RedisCluster, RedisKilledAndRestartedResumesWithin2sWithoutLeaks) {
  two_instances t;
  ASSERT_TRUE(t.ok());
  redis_server& redis = t.redis;
  instance &a = t.a, &b = t.b;
  auto a1 = chat(a.port(), "r");
  auto a2 = chat(a.port(), "r");
  auto a3 = chat(a.port(), "s");
  auto b1 = chat(b.port(), "r");
  auto b2 = chat(b.port(), "s");
  ASSERT_TRUE(a1 && a2 && a3 && b1 && b2);
  ASSERT_TRUE(eventually(
      [&] { return numsub(redis, "ns:chat/r") == 2 && numsub(redis, "ns:chat/s") == 2; }));
  const int a_fds = settled_fd_count(a.process().pid());
  const int b_fds = settled_fd_count(b.process().pid());
  const long a_rss = rss_kib(a.process().pid());

  for (int cycle = 1; cycle <= 3; ++cycle) {
    redis.kill();
    ASSERT_TRUE(eventually([&] { return !a.connected() && !b.connected(); }));
    ASSERT_TRUE(a3->send_text("down " + std::to_string(cycle)));  // local delivery goes on
    EXPECT_EQ(next_text(*a3), "down " + std::to_string(cycle));
    // The second outage lasts long enough for the backoff to reach its 1 s cap.
    if (cycle == 2) std::this_thread::sleep_for(2500ms);

    ASSERT_TRUE(redis.start()) << redis.log();
    const auto restarted = clock_type::now();
    // Probes of this cycle only: one sent after B heard the last cycle's may still come.
    const std::string probe = "probe " + std::to_string(cycle);
    std::atomic<bool> heard{false};
    std::thread prober([&] {
      for (int i = 0; !heard.load() && i < 100; ++i) {
        if (!a1->send_text(probe)) break;
        std::this_thread::sleep_for(50ms);
      }
    });
    const std::string got = next_text_starting(*b1, probe);
    heard = true;
    const auto resumed = clock_type::now() - restarted;
    prober.join();
    ASSERT_EQ(got, probe);
    std::printf(
        "[ figures ] cycle %d: A → B delivery resumed %lld ms after redis-server came "
        "back\n",
        cycle,
        static_cast<long long>(
            std::chrono::duration_cast<std::chrono::milliseconds>(resumed).count()));
    EXPECT_LT(resumed, 2s);
    // Every live room of both instances is subscribed again.
    EXPECT_TRUE(eventually([&] {
      return numsub(redis, "ns:chat/r") == 2 && numsub(redis, "ns:chat/s") == 2 && a.connected() &&
             b.connected();
    })) << redis.command({"PUBSUB", "CHANNELS"});
    EXPECT_EQ(channels(redis, "ns:*"), (std::set<std::string>{"ns:chat/r", "ns:chat/s"}));
    ASSERT_TRUE(b2->send_text("back " + std::to_string(cycle)));
    EXPECT_EQ(next_text_starting(*a3, "back"), "back " + std::to_string(cycle));
    EXPECT_EQ(wait_fd_count_at_most(a.process().pid(), a_fds, 3s), a_fds) << "cycle " << cycle;
    EXPECT_EQ(wait_fd_count_at_most(b.process().pid(), b_fds, 3s), b_fds) << "cycle " << cycle;
  }
  const long grown = rss_kib(a.process().pid()) - a_rss;
  std::printf("[ figures ] A: %d fds before and after 3 restarts, RSS %+ld KiB\n", a_fds, grown);
  EXPECT_LT(grown, 8 * 1024);
  const std::string ja = a.redis_json();
  EXPECT_GE(json_number(ja, "subscriber_disconnects"), 3) << ja;
  EXPECT_GE(json_number(ja, "publisher_disconnects"), 3) << ja;
  t.expect_clean_exit();
}

}  // namespace
}  // namespace ns::test
