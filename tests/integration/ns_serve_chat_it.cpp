// SPDX-License-Identifier: MIT
// ns_serve's /ws/chat on topics, with two threads: /ws/chat?room=NAME joins one room (a topic
// spanning both loops); rooms do not see each other's messages; bad room names get 400; the
// status JSON counts topics and subscriptions, back to 0 once everyone has left.
#include <gtest/gtest.h>

#include <thread>

#include "integration/ws_support.hpp"

namespace ns::test {
namespace {

std::unique_ptr<ws_client> chat(std::uint16_t port, const std::string& target, int want = 101) {
  auto c = std::make_unique<ws_client>();
  ws_client::options o;
  o.path = target;
  o.deflate = true;  // as a browser would
  if (!c->connect(port, o) || c->status() != want) {
    ADD_FAILURE() << target << ": " << c->error() << " " << c->head();
    return nullptr;
  }
  return c;
}

std::string next_text(ws_client& c) {
  const auto e = c.next_message();
  return e && e->type == ws::event_type::message ? e->data : "<none>";
}

// The "topics" object of the status JSON.
std::string topics_json(std::uint16_t port) {
  const http_response r = https_get(port, "/_status");
  const std::size_t at = r.body.find("\"topics\": {");
  return at == std::string::npos ? r.body : r.body.substr(at, r.body.find('}', at) - at + 1);
}

TEST(NsServeChat, RoomsAreTopicsThatDoNotSeeEachOther) {
  temp_dir root;
  root.write("index.html", "hi\n");
  served s = start_ns_serve({"--root", root.path(), "--threads", "2", "--log-level", "warn",
                             "--status-path", "/_status"});
  ASSERT_NE(s.port, 0) << (s.process ? s.process->stderr_text() : "");
  // Enough members that the kernel puts each room on both loops more often than not; the
  // library's tests (topics_it.cpp) pin cross-loop delivery down deterministically.
  std::vector<std::unique_ptr<ws_client>> a, b;
  for (int i = 0; i < 4; ++i) a.push_back(chat(s.port, "/ws/chat?room=a"));
  for (int i = 0; i < 4; ++i) b.push_back(chat(s.port, "/ws/chat?x=1&room=b"));
  auto lobby = chat(s.port, "/ws/chat");
  for (const auto& c : a) ASSERT_TRUE(c);
  for (const auto& c : b) ASSERT_TRUE(c);
  ASSERT_TRUE(lobby);
  // Subscriptions are made in websocket_open_callback, before any message can be read.
  EXPECT_EQ(topics_json(s.port),
            "\"topics\": {\"topics\": 3, \"subscriptions\": 9, \"published\": 0, "
            "\"delivered\": 0, \"dropped_slow\": 0}");

  ASSERT_TRUE(a[0]->send_text("hello a"));
  for (auto& c : a) EXPECT_EQ(next_text(*c), "hello a");
  ASSERT_TRUE(b[3]->send_text("hello b"));
  for (auto& c : b) EXPECT_EQ(next_text(*c), "hello b");  // the first thing room b hears
  ASSERT_TRUE(lobby->send_text("hello lobby"));
  EXPECT_EQ(next_text(*lobby), "hello lobby");
  ASSERT_TRUE(a[2]->send_text("again a"));
  for (auto& c : a) EXPECT_EQ(next_text(*c), "again a");  // nothing of b or the lobby between
  EXPECT_EQ(topics_json(s.port),
            "\"topics\": {\"topics\": 3, \"subscriptions\": 9, \"published\": 4, "
            "\"delivered\": 13, \"dropped_slow\": 0}");

  // Room names: URL-safe characters only, at most 64 of them.
  chat(s.port, "/ws/chat?room=a%20b", 400);
  chat(s.port, "/ws/chat?room=" + std::string(65, 'r'), 400);
  EXPECT_TRUE(chat(s.port, "/ws/chat?room=" + std::string(64, 'r')));

  a.clear();
  b.clear();
  lobby.reset();
  std::string now;
  for (int i = 0; i < 100; ++i) {  // the closes reach the loops asynchronously
    now = topics_json(s.port);
    if (now.find("\"topics\": 0, \"subscriptions\": 0,") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(now.find("\"topics\": 0, \"subscriptions\": 0,"), std::string::npos) << now;
  EXPECT_EQ(s.process->stop(SIGTERM, std::chrono::seconds(10)), 0) << s.process->stderr_text();
}

}  // namespace
}  // namespace ns::test
