// SPDX-License-Identifier: MIT
// The library's connection moving (include/network_server/handover.hpp) between two servers in
// one process, with real TLS clients on 127.0.0.1: a server that drains with a mover hands an
// idle keep-alive connection and a WebSocket between messages to the other server, which
// carries on with them on the same TCP connection; the application's blob travels with them;
// a refused move drains where it is; a state that is not one is refused.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>

#include <network_server/network_server.hpp>

#include "support/tls_client.hpp"
#include "tls/self_signed.hpp"
#include "ws_support.hpp"

namespace ns::test {
namespace {

// ws_test_app that carries a blob and remembers what moved in.
class moving_app : public ws_test_app {
 public:
  std::string connection_moving(client_num_t c) override { return "user-" + std::to_string(c); }
  void connection_moved_in(client_num_t c, bool websocket, std::string_view blob) override {
    std::lock_guard l(rec.m);
    moved_in.push_back({c, websocket, std::string(blob)});
    rec.cv.notify_all();
  }
  struct arrival {
    client_num_t c;
    bool websocket;
    std::string blob;
  };
  std::vector<arrival> moved_in;  // guarded by rec.m
};

// A server on its own thread that stays alive (stats readable) after its loop ended.
class running_server {
 public:
  explicit running_server(application_methods& app) {
    server_config cfg;
    cfg.port = 0;
    cfg.reuse_port = false;
    tls::write_pem_files(tls::make_self_signed(), dir_.path() + "/c.pem", dir_.path() + "/k.pem");
    cfg.tls.certificates.push_back({dir_.path() + "/c.pem", dir_.path() + "/k.pem"});
    std::promise<void> ready;
    std::future<void> started = ready.get_future();
    loop_ = std::thread([this, cfg, &app, &ready] {
      server_ = std::make_unique<network_server>(cfg, app);
      ready.set_value();
      rc_ = server_->start();
      ended_ = true;
      release_.get_future().wait();  // destroyed on this thread, when the test is done
      server_.reset();
    });
    started.get();
  }
  ~running_server() {
    server_->stop();
    release_.set_value();
    loop_.join();
  }
  network_server& server() { return *server_; }
  [[nodiscard]] bool ended() const { return ended_.load(); }
  [[nodiscard]] int rc() const { return rc_; }

 private:
  temp_dir dir_;
  std::unique_ptr<network_server> server_;
  std::thread loop_;
  std::promise<void> release_;
  std::atomic<bool> ended_{false};
  int rc_ = -1;
};

// Hands every connection to @p to (a copy of the descriptor, as SCM_RIGHTS would make), or
// refuses them all.
class in_process_mover : public connection_mover {
 public:
  explicit in_process_mover(network_server* to) : to_(to) {}
  bool move(int fd, std::span<const std::byte> state) override {
    ++offered;
    if (to_ == nullptr) return false;
    const int copy = ::dup(fd);
    const int rc = to_->adopt_connection(copy, state);
    if (rc != 0) ::close(copy);
    return rc == 0;
  }
  std::atomic<int> offered{0};

 private:
  network_server* to_;
};

bool get(tls_client& c, http_response& r) {
  if (!c.write("GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n")) return false;
  r = c.read_response();
  return r.complete;
}

bool wait_for(const std::function<bool()>& pred) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

TEST(ConnectionMove, KeepAliveAndWebSocketCarryOnInTheOtherServer) {
  moving_app app_a, app_b;
  running_server a(app_a), b(app_b);
  tls_client keep;
  ASSERT_TRUE(keep.connect(a.server().port())) << keep.error();
  http_response r;
  ASSERT_TRUE(get(keep, r));
  EXPECT_EQ(r.body, "plain");
  ws_client ws;
  ASSERT_TRUE(ws.connect(a.server().port()));
  ASSERT_EQ(ws.status(), 101);
  ASSERT_TRUE(ws.send_text("one"));
  auto m = ws.next_message();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data, "one");

  auto mover = std::make_shared<in_process_mover>(&b.server());
  a.server().drain(std::chrono::seconds(5), mover);
  ASSERT_TRUE(wait_for([&] { return a.ended(); })) << "nothing left to drain once both moved";
  EXPECT_EQ(a.rc(), 0);
  EXPECT_EQ(a.server().stats().moved_out, 2u);
  {
    std::lock_guard l(app_a.rec.m);
    ASSERT_EQ(app_a.rec.ws_closed.size(), 1u);
    EXPECT_EQ(app_a.rec.ws_closed.begin()->second, 1001) << "moved: gone away from here";
  }

  ASSERT_TRUE(ws.send_text("two"));
  m = ws.next_message();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data, "two");
  ASSERT_TRUE(get(keep, r));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "plain");
  // Counters are the loop's: read them there.
  std::promise<server_stats> got;
  ASSERT_EQ(b.server().post([&] { got.set_value(b.server().stats()); }), 0);
  const server_stats sb = got.get_future().get();
  EXPECT_EQ(sb.moved_in, 2u);
  EXPECT_EQ(sb.connections_open, 2u);
  EXPECT_EQ(sb.ws_messages_in, 1u) << "the second message was read by the other server";
  std::lock_guard l(app_b.rec.m);
  ASSERT_EQ(app_b.moved_in.size(), 2u);
  int websockets = 0;
  for (const auto& in : app_b.moved_in) {
    EXPECT_EQ(in.blob.rfind("user-", 0), 0u) << in.blob;
    websockets += in.websocket ? 1 : 0;
  }
  EXPECT_EQ(websockets, 1);
}

TEST(ConnectionMove, ARefusedMoveDrainsWhereItIs) {
  moving_app app_a;
  running_server a(app_a);
  ws_client ws;
  ASSERT_TRUE(ws.connect(a.server().port()));
  ASSERT_EQ(ws.status(), 101);
  auto mover = std::make_shared<in_process_mover>(nullptr);
  a.server().drain(std::chrono::milliseconds(300), mover);
  // Still served here until the grace period ends, then told the server is going away.
  ASSERT_TRUE(wait_for([&] { return mover->offered.load() == 1; }));
  ASSERT_TRUE(ws.send_text("still here"));
  auto m = ws.next_message();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->data, "still here");
  m = ws.next_message();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, ws::event_type::close);
  EXPECT_EQ(m->code, 1001);
  ASSERT_TRUE(wait_for([&] { return a.ended(); }));
  EXPECT_EQ(a.server().stats().moves_refused, 1u);
  EXPECT_EQ(mover->offered.load(), 1) << "one refusal ends the moving";
}

TEST(ConnectionMove, AStateThatIsNotOneIsRefused) {
  moving_app app;
  running_server s(app);
  const int fd = tcp_connect(s.server().port());
  ASSERT_GE(fd, 0);
  const std::byte junk[] = {std::byte{0}, std::byte{9}, std::byte{1}};
  EXPECT_EQ(s.server().adopt_connection(fd, junk), -EINVAL);
  ::close(fd);  // still ours after a refusal
  s.server().stop();
  ASSERT_TRUE(wait_for([&] { return s.ended(); }));
  EXPECT_EQ(s.server().stats().moved_in, 0u);
}

}  // namespace
}  // namespace ns::test
