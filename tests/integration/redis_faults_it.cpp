// SPDX-License-Identifier: MIT
// What Redis or a stranger can do to the channel of two ns_serve instances: Redis closes the
// subscriber links for a full output buffer (client-output-buffer-limit pubsub, tiny here) —
// they reconnect, every room is subscribed again, it is counted; garbage, broken envelopes,
// invalid UTF-8 and an oversized message are published on a room's channel (redis-cli and
// hiredis) — dropped, counted, logged once, nothing reaches a client, nothing crashes.
#include <gtest/gtest.h>

#include "integration/redis_cluster_util.hpp"

namespace ns::test {
namespace {

using namespace std::chrono_literals;

TEST(RedisFaults, SubscriberClosedForItsOutputBufferReconnectsAndResubscribes) {
  two_instances t("client-output-buffer-limit pubsub 64kb 32kb 1");
  ASSERT_TRUE(t.ok());
  redis_server& redis = t.redis;
  instance &a = t.a, &b = t.b;
  auto a1 = chat(a.port(), "r");
  auto a2 = chat(a.port(), "s");
  auto b1 = chat(b.port(), "r");
  ASSERT_TRUE(a1 && a2 && b1);
  ASSERT_TRUE(eventually(
      [&] { return numsub(redis, "ns:chat/r") == 2 && numsub(redis, "ns:chat/s") == 1; }));

  // A flood from a third instance: each message alone is beyond the 64 KiB hard limit of a
  // subscriber's output buffer, so Redis closes both instances' subscriber links.
  const std::string flood =
      envelope("flooding-instance", true, "flood" + std::string(200'000, '.'));
  EXPECT_EQ(redis.command({"PUBLISH", "ns:chat/r", flood}), "2");
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(redis.command({"PUBLISH", "ns:chat/r", flood}).empty());
  EXPECT_TRUE(eventually([&] {
    return json_number(a.redis_json(), "subscriber_disconnects") >= 1 &&
           json_number(b.redis_json(), "subscriber_disconnects") >= 1;
  })) << a.redis_json();
  EXPECT_NE(redis.log().find("output buffer limits"), std::string::npos) << redis.log();

  // Back within the backoff: both rooms of A subscribed again, delivery across instances.
  ASSERT_TRUE(eventually(
      [&] {
        return numsub(redis, "ns:chat/r") == 2 && numsub(redis, "ns:chat/s") == 1 &&
               a.connected() && b.connected();
      },
      3s))
      << redis.command({"CLIENT", "LIST"});
  ASSERT_TRUE(b1->send_text("after the flood"));
  EXPECT_EQ(next_text_starting(*a1, "after"), "after the flood");
  const std::string ja = a.redis_json();
  EXPECT_EQ(json_number(ja, "publisher_disconnects"), 0) << "only the subscriber was closed";
  EXPECT_NE(a.process().stderr_text().find("redis: lost the subscriber link"), std::string::npos)
      << a.process().stderr_text();
  t.expect_clean_exit();
}

TEST(RedisFaults, GarbageOnAChannelIsDroppedCountedAndLoggedOnce) {
  two_instances t;
  ASSERT_TRUE(t.ok());
  redis_server& redis = t.redis;
  instance &a = t.a, &b = t.b;
  auto a1 = chat(a.port(), "r");
  auto b1 = chat(b.port(), "r");
  ASSERT_TRUE(a1 && b1);
  ASSERT_TRUE(eventually([&] { return numsub(redis, "ns:chat/r") == 2; }));

  // Plain garbage, as anyone with redis-cli can publish.
  child_process cli({"/usr/bin/redis-cli", "-p", std::to_string(redis.port()), "PUBLISH",
                     "ns:chat/r", "garbage \x01\x02 not an envelope"});
  ASSERT_EQ(cli.wait(5s), 0) << cli.stderr_text();
  EXPECT_EQ(cli.stdout_text(), "2\n");  // subscribers reached (not a terminal: no "(integer)")
  // Well-formed headers around broken contents.
  std::string cut = envelope("other", true, "cut short");
  cut.pop_back();
  for (const std::string& bad :
       {envelope("other", true, "\xff\xfe not UTF-8"), cut, envelope("other", false, "x") + "+",
        std::string("ns\x02\x01\x05other\x00\x00\x00\x01x", 15)}) {
    EXPECT_EQ(redis.command({"PUBLISH", "ns:chat/r", bad}), "2");
  }
  // A real message above the WebSocket bound (16 MiB + 64), whole.
  const std::string huge = envelope("other", false, std::string(16 * 1024 * 1024 + 65, 'h'));
  EXPECT_EQ(redis.command({"PUBLISH", "ns:chat/r", huge}), "2");

  ASSERT_TRUE(b1->send_text("real"));
  EXPECT_EQ(next_text(*a1), "real") << "the first thing A's client sees";
  EXPECT_EQ(next_text(*b1), "real");
  for (auto* i : {&a, &b}) {
    EXPECT_TRUE(eventually([&] {
      const std::string j = i->redis_json();
      return json_number(j, "malformed") == 5 && json_number(j, "oversized") == 1;
    })) << i->redis_json();
    const std::string err = i->process().stderr_text();
    EXPECT_NE(err.find("redis: dropped a message on channel 'ns:chat/r' (not an envelope); "
                       "further ones are only counted"),
              std::string::npos)
        << err;
    EXPECT_EQ(err.find("dropped a message", err.find("dropped a message") + 1), std::string::npos)
        << "logged more than once: " << err;
    EXPECT_TRUE(i->connected()) << "garbage does not cost the link";
  }
  EXPECT_EQ(json_number(a.redis_json(), "received"), 1);
  t.expect_clean_exit();
}

}  // namespace
}  // namespace ns::test
