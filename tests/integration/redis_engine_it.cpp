// SPDX-License-Identifier: MIT
// redis_engine in a test process against a real redis-server: what it publishes, what it
// subscribes to (one link per process whatever the number of loops), its own echoes, the
// bounded queue while Redis is down, AUTH/SELECT, unix sockets, and a clean shutdown.
#include <gtest/gtest.h>

#include <signal.h>

#include <cstdio>
#include <fstream>
#include <mutex>
#include <network_server/redis_engine.hpp>
#include <sstream>
#include <thread>

#include "cluster/envelope.hpp"
#include "integration/redis_it_util.hpp"
#include "integration/topic_support.hpp"

namespace ns::test {
namespace {

using namespace std::chrono_literals;

redis_options options_for(const std::string& url) {
  redis_options o;
  o.url = url;
  return o;
}

// Our two links as CLIENT LIST shows them (names carry the hub's origin).
std::vector<std::string> our_clients(const redis_server& r, const topic_hub& hub,
                                     const std::string& password = "") {
  const std::string list = r.command({"CLIENT", "LIST"}, password);
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < list.size()) {
    const auto nl = list.find('\n', at);
    const std::string line = list.substr(at, nl == std::string::npos ? nl : nl - at);
    if (line.find(std::string(hub.origin())) != std::string::npos) out.push_back(line);
    if (nl == std::string::npos) break;
    at = nl + 1;
  }
  return out;
}

// Connections of this machine to 127.0.0.1:@p port in ESTABLISHED state, seen from the client
// side (/proc/net/tcp: "sl local rem st ...", addresses as hex IP:port).
int established_to(std::uint16_t port) {
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // header
  char want[16];
  std::snprintf(want, sizeof(want), ":%04X", port);
  int n = 0;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string sl, local, remote, state;
    f >> sl >> local >> remote >> state;
    n += remote.ends_with(want) && state == "01";
  }
  return n;
}

// Captures the library's log lines that mention redis.
struct log_capture {
  log_capture() {
    set_log_sink([this](log_level, std::string_view line) {
      if (line.find("redis") == std::string_view::npos) return;
      std::lock_guard l(m);
      lines.emplace_back(line);
    });
  }
  ~log_capture() { set_log_sink({}); }
  std::vector<std::string> snapshot() {
    std::lock_guard l(m);
    return lines;
  }
  std::mutex m;
  std::vector<std::string> lines;
};

TEST(RedisEngine, PublishesAsEnvelopesOnPrefixedBinarySafeChannels) {
  redis_server redis;
  ASSERT_TRUE(redis.ok()) << redis.log();
  auto hub = topic_hub::create();
  auto engine = redis_engine::start(hub, options_for(redis.url()));
  ASSERT_TRUE(eventually([&] { return engine->stats().connected; })) << "not connected";
  const std::string odd_topic("a\0b\r\n", 5);
  raw_subscriber sub(redis, {"ns:t", "ns:" + odd_topic});
  ASSERT_TRUE(sub.ok());

  ASSERT_EQ(hub->publish("t", "hello"), 0);
  std::string every_byte;
  for (int i = 0; i < 256; ++i) every_byte += static_cast<char>(i);
  ASSERT_EQ(hub->publish(odd_topic, std::as_bytes(std::span(every_byte)), ws_message_type::binary),
            0);
  const auto m1 = sub.next();
  ASSERT_TRUE(m1);
  EXPECT_EQ(m1->first, "ns:t");
  const auto e1 = cluster::decode_envelope(std::as_bytes(std::span(m1->second)), 1 << 20);
  ASSERT_EQ(e1.status, cluster::decode_status::ok);
  EXPECT_EQ(e1.value.origin, hub->origin());
  EXPECT_EQ(e1.value.type, cluster::payload_type::text);
  EXPECT_EQ(
      std::string(reinterpret_cast<const char*>(e1.value.payload.data()), e1.value.payload.size()),
      "hello");
  const auto m2 = sub.next();
  ASSERT_TRUE(m2);
  EXPECT_EQ(m2->first, "ns:" + odd_topic);
  const auto e2 = cluster::decode_envelope(std::as_bytes(std::span(m2->second)), 1 << 20);
  ASSERT_EQ(e2.status, cluster::decode_status::ok);
  EXPECT_EQ(e2.value.type, cluster::payload_type::binary);
  EXPECT_EQ(e2.value.payload.size(), 256u);
  EXPECT_TRUE(eventually([&] { return engine->stats().published == 2; }));
}

TEST(RedisEngine, OneSubscriptionPerProcessAndRemoteMessagesReachEveryLoop) {
  redis_server redis;
  ASSERT_TRUE(redis.ok()) << redis.log();
  topic_loops loops(2);
  auto engine = redis_engine::start(loops.hub, options_for(redis.url()));
  ASSERT_TRUE(eventually([&] { return engine->stats().connected; }));
  EXPECT_EQ(our_clients(redis, *loops.hub).size(), 2u) << "a subscriber and a publisher link";

  // Two subscribers on each loop: still one channel subscription for the process.
  auto a = topic_client(loops.port(0), {"room"});
  auto b = topic_client(loops.port(0), {"room"});
  auto c = topic_client(loops.port(1), {"room"});
  ASSERT_TRUE(a && b && c);
  ASSERT_TRUE(eventually([&] { return numsub(redis, "ns:room") == 1; }))
      << numsub(redis, "ns:room");
  EXPECT_EQ(engine->stats().channels, 1u);

  // Another instance's message reaches every local subscriber once; our own echo is ignored.
  EXPECT_EQ(redis.command({"PUBLISH", "ns:room", envelope("other-instance", true, "remote")}), "1");
  EXPECT_EQ(redis.command(
                {"PUBLISH", "ns:room", envelope(std::string(loops.hub->origin()), true, "echo")}),
            "1");
  EXPECT_EQ(redis.command({"PUBLISH", "ns:room", envelope("other-instance", true, "after")}), "1");
  for (auto* cl : {a.get(), b.get(), c.get()}) {
    auto m = cl->next_message();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->data, "remote");
    EXPECT_EQ(m->op, ws::opcode::text);
    m = cl->next_message();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->data, "after") << "the own-origin echo was delivered";
  }
  EXPECT_TRUE(eventually([&] {
    const auto s = engine->stats();
    return s.received == 2 && s.own_echoes == 1;
  }));
  EXPECT_EQ(loops.hub->stats().injected, 2u);

  // The last subscriber of the process leaving unsubscribes the channel.
  EXPECT_EQ(command_rc(*a, "unsub room"), 0);
  EXPECT_EQ(command_rc(*b, "unsub room"), 0);
  EXPECT_EQ(numsub(redis, "ns:room"), 1) << "loop 1 still has a subscriber";
  EXPECT_EQ(command_rc(*c, "unsub room"), 0);
  EXPECT_TRUE(eventually([&] { return numsub(redis, "ns:room") == 0; }));
  EXPECT_EQ(engine->stats().channels, 0u);
}

TEST(RedisEngine, PublishesWaitInABoundedQueueWhileRedisIsDown) {
  const std::uint16_t port = free_port();
  auto hub = topic_hub::create();
  redis_options o = options_for("redis://127.0.0.1:" + std::to_string(port));
  o.max_queued_bytes = 2000;
  o.reconnect_min = 400ms;  // room for the raw subscriber to subscribe before the flush
  o.reconnect_max = 400ms;
  auto engine = redis_engine::start(hub, o);
  std::vector<std::string> sent;
  for (int i = 0; i < 100; ++i) {
    std::string payload = "m" + std::to_string(1000 + i) + std::string(95, '.');
    ASSERT_EQ(hub->publish("q", payload), 0);
    sent.push_back(std::move(payload));
  }
  const auto down = engine->stats();
  EXPECT_FALSE(down.connected);
  // Each command is 100 payload bytes + 32 origin + 9 header + RESP framing and the channel.
  EXPECT_GT(down.dropped.queue_full, 80u);
  EXPECT_LT(down.dropped.queue_full, 95u);
  const std::uint64_t kept = 100 - down.dropped.queue_full;

  redis_server redis("", port);
  ASSERT_TRUE(redis.ok()) << redis.log();
  raw_subscriber sub(redis, {"ns:q"});
  ASSERT_TRUE(sub.ok());
  for (std::uint64_t i = 0; i < kept; ++i) {
    const auto m = sub.next();
    ASSERT_TRUE(m) << "message " << i << " of " << kept;
    const auto e = cluster::decode_envelope(std::as_bytes(std::span(m->second)), 1 << 20);
    ASSERT_EQ(e.status, cluster::decode_status::ok);
    EXPECT_EQ(
        std::string(reinterpret_cast<const char*>(e.value.payload.data()), e.value.payload.size()),
        sent[i])
        << "the queue keeps the first ones, in order";
  }
  EXPECT_TRUE(eventually([&] { return engine->stats().published == kept; }));
  // Confirmed publishes free their share of the bound: more fit again.
  ASSERT_EQ(hub->publish("q", std::string(100, 'x')), 0);
  EXPECT_TRUE(eventually([&] { return engine->stats().published == kept + 1; }));
  EXPECT_EQ(engine->stats().dropped.queue_full, down.dropped.queue_full);
}

TEST(RedisEngine, LogsInWithAuthAndSelectsTheDatabase) {
  redis_server redis("requirepass s3cret");
  ASSERT_TRUE(redis.ok()) << redis.log();
  for (const char* userinfo : {":s3cret@", "default:s3cret@"}) {
    auto hub = topic_hub::create();
    auto engine =
        redis_engine::start(hub, options_for(std::string("redis://") + userinfo +
                                             "127.0.0.1:" + std::to_string(redis.port()) + "/3"));
    ASSERT_TRUE(eventually([&] { return engine->stats().connected; })) << userinfo;
    const auto clients = our_clients(redis, *hub, "s3cret");
    ASSERT_EQ(clients.size(), 2u);
    for (const auto& line : clients) EXPECT_NE(line.find(" db=3 "), std::string::npos) << line;
  }
}

TEST(RedisEngine, AWrongPasswordIsLoggedOnceAndRetried) {
  redis_server redis("requirepass s3cret");
  ASSERT_TRUE(redis.ok()) << redis.log();
  log_capture log;
  auto hub = topic_hub::create();
  redis_options o = options_for("redis://:wrong@127.0.0.1:" + std::to_string(redis.port()));
  o.reconnect_min = 20ms;
  o.reconnect_max = 40ms;
  auto engine = redis_engine::start(hub, o);
  std::this_thread::sleep_for(500ms);  // a dozen attempts or more
  EXPECT_FALSE(engine->stats().connected);
  const auto lines = log.snapshot();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("AUTH refused"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].find("wrong"), std::string::npos) << "the password leaked: " << lines[0];
  EXPECT_EQ(engine->stats().connects, 0u);
}

// A frozen Redis (SIGSTOP: the kernel still completes TCP handshakes) answers nothing: each
// attempt is abandoned after connect_timeout and retried, until it thaws.
TEST(RedisEngine, AConnectionThatIsNeverReadyIsAbandonedAndRetried) {
  redis_server redis;
  ASSERT_TRUE(redis.ok()) << redis.log();
  redis.signal(SIGSTOP);
  log_capture log;
  auto hub = topic_hub::create();
  redis_options o = options_for(redis.url());
  o.connect_timeout = 300ms;
  o.reconnect_min = 50ms;
  o.reconnect_max = 100ms;
  auto engine = redis_engine::start(hub, o);
  std::this_thread::sleep_for(1s);
  EXPECT_FALSE(engine->stats().connected);
  const auto lines = log.snapshot();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("(not ready within 300 ms)"), std::string::npos) << lines[0];
  // Abandoned attempts are closed (their polls cancelled: a poll left armed keeps the socket
  // open in the kernel after hiredis closed the fd): at most one attempt per link is open.
  EXPECT_LE(established_to(redis.port()), 2);
  redis.signal(SIGCONT);
  EXPECT_TRUE(eventually([&] { return engine->stats().connected; }, 3s));
}

TEST(RedisEngine, UnixSocket) {
  temp_dir dir;
  const std::string path = dir.path() + "/redis.sock";
  redis_server redis("unixsocket " + path + "\nunixsocketperm 700");
  ASSERT_TRUE(redis.ok()) << redis.log();
  auto hub = topic_hub::create();
  auto engine = redis_engine::start(hub, options_for("unix://" + path));
  ASSERT_TRUE(eventually([&] { return engine->stats().connected; }));
  raw_subscriber sub(redis, {"ns:u"});
  ASSERT_EQ(hub->publish("u", "over a unix socket"), 0);
  const auto m = sub.next();
  ASSERT_TRUE(m);
  EXPECT_NE(m->second.find("over a unix socket"), std::string::npos);
}

TEST(RedisEngine, StoppingClosesEveryDescriptorWhetherRedisIsUpOrDown) {
  redis_server redis;
  ASSERT_TRUE(redis.ok()) << redis.log();
  const int before = open_fd_count(getpid());
  for (const std::string& url : {redis.url(), "redis://127.0.0.1:" + std::to_string(free_port())}) {
    auto hub = topic_hub::create();
    auto engine = redis_engine::start(hub, options_for(url));
    hub->publish("t", "x");
    std::this_thread::sleep_for(100ms);
    hub->set_engine(nullptr);
    engine.reset();  // joins the thread; the ring, eventfd and sockets are closed
    EXPECT_EQ(open_fd_count(getpid()), before) << url;
  }
}

TEST(RedisEngine, PublishesRedisDoesNotConfirmAreCountedByReason) {
  redis_server redis;
  ASSERT_TRUE(redis.ok()) << redis.log();
  auto hub = topic_hub::create();
  redis_options o = options_for(redis.url());
  o.max_message_bytes = 100;
  auto engine = redis_engine::start(hub, o);
  EXPECT_EQ(engine->describe(), redis.url());
  ASSERT_TRUE(eventually([&] { return engine->stats().connected; }));
  // Above max_message_bytes: not sent at all.
  ASSERT_EQ(hub->publish("t", std::string(101, 'x')), 0);
  EXPECT_EQ(engine->stats().dropped.too_large, 1u);
  // Sent to a Redis that answers nothing (frozen), then dies: lost in flight, each of them.
  redis.signal(SIGSTOP);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(hub->publish("t", "unconfirmed"), 0);
  std::this_thread::sleep_for(100ms);  // written, waiting for replies that never come
  redis.kill();
  EXPECT_TRUE(eventually([&] { return engine->stats().dropped.lost_in_flight == 10; }))
      << engine->stats().dropped.lost_in_flight;
  EXPECT_EQ(engine->stats().published, 0u);
}

TEST(RedisEngine, PublishesRedisRefusesAreCounted) {
  redis_server redis("rename-command PUBLISH \"\"");  // every PUBLISH is an error now
  ASSERT_TRUE(redis.ok()) << redis.log();
  auto hub = topic_hub::create();
  auto engine = redis_engine::start(hub, options_for(redis.url()));
  ASSERT_TRUE(eventually([&] { return engine->stats().connected; }));
  ASSERT_EQ(hub->publish("t", "refused"), 0);
  ASSERT_EQ(hub->publish("t", "refused too"), 0);
  EXPECT_TRUE(eventually([&] { return engine->stats().dropped.refused == 2; }));
  EXPECT_TRUE(engine->stats().connected) << "an error reply does not cost the link";
}

TEST(RedisEngine, AMissingUnixSocketIsRetriedUntilItExists) {
  temp_dir dir;
  const std::string path = dir.path() + "/later.sock";
  log_capture log;
  auto hub = topic_hub::create();
  auto engine = redis_engine::start(hub, options_for("unix://" + path));
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(engine->stats().connected);
  const auto lines = log.snapshot();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("cannot reach unix://" + path + " (No such file or directory)"),
            std::string::npos)
      << lines[0];
  redis_server redis("unixsocket " + path);
  ASSERT_TRUE(redis.ok()) << redis.log();
  EXPECT_TRUE(eventually([&] { return engine->stats().connected; }, 3s));
}

TEST(RedisEngine, RefusesBadSettings) {
  EXPECT_THROW(redis_engine::start(nullptr, options_for("redis://h")), std::invalid_argument);
  auto hub = topic_hub::create();
  redis_options o = options_for("redis://h");
  o.reconnect_max = o.reconnect_min - 1ms;
  EXPECT_THROW(redis_engine::start(hub, o), std::invalid_argument);
  o = options_for("redis://h");
  o.connect_timeout = 0ms;
  EXPECT_THROW(redis_engine::start(hub, o), std::invalid_argument);
}

TEST(RedisEngine, RefusesABadUrlWithoutRepeatingIt) {
  auto hub = topic_hub::create();
  try {
    redis_engine::start(hub, options_for("redis://u:hunter2@h:70000"));
    FAIL() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("port"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ns::test
