// SPDX-License-Identifier: MIT
// Raw descriptors, application eventfds and post(): every callback exactly once, also on
// failure; stale handles refused; cross-thread triggers none lost.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <future>
#include <thread>
#include <vector>

#include <network_server/network_server.hpp>

namespace ns::test {
namespace {

// A plaintext server on an ephemeral port running `app` on its own thread.
template <class App>
class running_server {
 public:
  explicit running_server(App& app, std::chrono::milliseconds idle_timeout = {}) {
    server_config cfg;
    if (idle_timeout.count() > 0) cfg.idle_timeout = idle_timeout;
    cfg.port = 0;
    cfg.reuse_port = false;  // port 0 + SO_REUSEPORT could share a port with a parallel test
    cfg.plaintext = true;
    server = std::make_unique<network_server>(cfg, app);
    loop = std::thread([this] { rc = server->start(); });
  }
  ~running_server() { stop(); }
  void stop() {
    if (loop.joinable()) {
      server->stop();
      loop.join();
    }
  }
  /// Runs fn on the loop thread and waits for it.
  template <class F>
  auto on_loop(F fn) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto fut = task.get_future();
    EXPECT_EQ(server->post([&task] { task(); }), 0);
    return fut.get();
  }
  std::unique_ptr<network_server> server;
  std::thread loop;
  int rc = -1;
};

struct raw_app : application_methods {
  std::promise<std::string> read_done;
  std::promise<bool> read_failed;
  std::promise<std::size_t> readv_done;
  std::atomic<int> writes{0}, writevs{0}, failed_writes{0}, closes{0};
  std::promise<void> closed;
  bool expect_fail = false;

  void raw_read_callback(std::span<std::byte> data, client_num_t, bool failed) override {
    if (expect_fail) {
      read_failed.set_value(failed);
      return;
    }
    read_done.set_value(std::string(reinterpret_cast<char*>(data.data()), data.size()));
  }
  void raw_readv_callback(std::span<const iovec>, std::size_t n, client_num_t, bool failed) override {
    readv_done.set_value(failed ? 0 : n);
  }
  void raw_write_callback(client_num_t, bool failed) override {
    ++writes;
    if (failed) ++failed_writes;
  }
  void raw_writev_callback(client_num_t, bool failed) override {
    ++writevs;
    if (failed) ++failed_writes;
  }
  void raw_close_callback(client_num_t) override {
    if (++closes == 1) closed.set_value();
  }
};

TEST(RawDescriptors, ReadWriteAndCloseAPipe) {
  raw_app app;
  running_server rs(app);
  int in[2], out[2];
  ASSERT_EQ(pipe2(in, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  client_num_t reader = invalid_client, writer = invalid_client;
  ASSERT_EQ(rs.on_loop([&] { return rs.server->raw_adopt(in[0], reader); }), 0);
  ASSERT_EQ(rs.on_loop([&] { return rs.server->raw_adopt(out[1], writer); }), 0);

  std::vector<std::byte> buf(64);
  ASSERT_EQ(rs.on_loop([&] { return rs.server->raw_read(reader, buf); }), 0);
  EXPECT_EQ(rs.on_loop([&] { return rs.server->raw_read(reader, buf); }), -EBUSY);
  ASSERT_EQ(write(in[1], "ping", 4), 4);
  EXPECT_EQ(app.read_done.get_future().get(), "ping");

  const std::string a = "hello ", b = "world";
  iovec v[2] = {{const_cast<char*>(a.data()), a.size()}, {const_cast<char*>(b.data()), b.size()}};
  ASSERT_EQ(rs.on_loop([&] {
              return rs.server->raw_write(writer, std::as_bytes(std::span(a.data(), a.size())));
            }),
            0);
  ASSERT_EQ(rs.on_loop([&] { return rs.server->raw_writev(writer, v); }), 0);
  std::string got;
  char tmp[64];
  while (got.size() < 17) {
    ssize_t n = read(out[0], tmp, sizeof(tmp));
    ASSERT_GT(n, 0);
    got.append(tmp, static_cast<std::size_t>(n));
  }
  EXPECT_EQ(got, "hello hello world");

  ASSERT_EQ(rs.on_loop([&] { return rs.server->raw_close(writer); }), 0);
  app.closed.get_future().get();
  // The server owns and closed the fd: the pipe's reader sees EOF.
  EXPECT_EQ(read(out[0], tmp, sizeof(tmp)), 0);
  // The handle is dead.
  EXPECT_EQ(rs.on_loop([&] { return rs.server->raw_write(writer, std::as_bytes(std::span("x", 1))); }),
            -EBADF);
  EXPECT_EQ(rs.on_loop([&] { return rs.server->raw_close(writer); }), -EBADF);
  EXPECT_EQ(app.writes.load(), 1);
  EXPECT_EQ(app.writevs.load(), 1);
  EXPECT_EQ(app.failed_writes.load(), 0);
  close(in[1]);
  close(out[0]);
}

TEST(RawDescriptors, ReadvFillsSeveralBuffers) {
  raw_app app;
  running_server rs(app);
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  client_num_t h = invalid_client;
  ASSERT_EQ(rs.on_loop([&] { return rs.server->raw_adopt(p[0], h); }), 0);
  char b1[3], b2[10];
  iovec v[2] = {{b1, sizeof(b1)}, {b2, sizeof(b2)}};
  ASSERT_EQ(write(p[1], "abcdefgh", 8), 8);
  ASSERT_EQ(rs.on_loop([&] { return rs.server->raw_readv(h, v); }), 0);
  EXPECT_EQ(app.readv_done.get_future().get(), 8u);
  EXPECT_EQ(std::string(b1, 3), "abc");
  EXPECT_EQ(std::string(b2, 5), "defgh");
  close(p[1]);
}

TEST(RawDescriptors, PendingReadFailsOnCloseAndWriteToClosedPeerFails) {
  raw_app app;
  app.expect_fail = true;
  running_server rs(app);
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  client_num_t h = invalid_client;
  ASSERT_EQ(rs.on_loop([&] { return rs.server->raw_adopt(sv[0], h); }), 0);
  std::vector<std::byte> buf(16);
  ASSERT_EQ(rs.on_loop([&] { return rs.server->raw_read(h, buf); }), 0);
  ASSERT_EQ(rs.on_loop([&] { return rs.server->raw_close(h); }), 0);
  EXPECT_TRUE(app.read_failed.get_future().get());  // cancelled read reported as failed
  app.closed.get_future().get();

  // A socket whose peer has gone: the write callback reports the failure, exactly once.
  raw_app app2;
  running_server rs2(app2);
  int sv2[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv2), 0);
  close(sv2[1]);
  client_num_t h2 = invalid_client;
  ASSERT_EQ(rs2.on_loop([&] { return rs2.server->raw_adopt(sv2[0], h2); }), 0);
  ASSERT_EQ(rs2.on_loop([&] { return rs2.server->raw_write(h2, std::as_bytes(std::span("data", 4))); }), 0);
  app2.closed.get_future().get();
  EXPECT_EQ(app2.writes.load(), 1);
  EXPECT_EQ(app2.failed_writes.load(), 1);
  close(sv[1]);
}

TEST(RawDescriptors, FdClosedBehindTheServersBackFailsCleanly) {
  raw_app app;
  app.expect_fail = true;
  running_server rs(app);
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  client_num_t h = invalid_client;
  ASSERT_EQ(rs.on_loop([&] { return rs.server->raw_adopt(p[0], h); }), 0);
  close(p[0]);  // behind its back
  std::vector<std::byte> buf(8);
  ASSERT_EQ(rs.on_loop([&] { return rs.server->raw_read(h, buf); }), 0);
  EXPECT_TRUE(app.read_failed.get_future().get());
  close(p[1]);
}

TEST(RawDescriptors, BadArgumentsAreRefused) {
  raw_app app;
  running_server rs(app);
  client_num_t h = invalid_client;
  EXPECT_EQ(rs.on_loop([&] { return rs.server->raw_adopt(-1, h); }), -EBADF);
  std::vector<std::byte> buf(8);
  EXPECT_EQ(rs.on_loop([&] { return rs.server->raw_read(invalid_client, buf); }), -EBADF);
  EXPECT_EQ(rs.on_loop([&] { return rs.server->raw_read(12345, buf); }), -EBADF);
}

TEST(RawDescriptors, HttpCallsOnARawHandleAreRefusedAndArmNoTimer) {
  // A raw descriptor has no HTTP exchange: an HTTP call on its handle is the wrong kind. It
  // once queued the bytes and "answered the request", which armed the idle timer of an HTTP
  // connection and closed the application's descriptor idle_timeout later.
  raw_app app;
  running_server rs(app, std::chrono::milliseconds(100));
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  client_num_t h = invalid_client;
  ASSERT_EQ(rs.on_loop([&] { return rs.server->raw_adopt(sv[0], h); }), 0);
  const auto bytes = std::as_bytes(std::span("x", 1));
  EXPECT_EQ(rs.on_loop([&] { return rs.server->http_write(h, bytes); }), -EBADF);
  const iovec v{const_cast<char*>("y"), 1};
  EXPECT_EQ(rs.on_loop([&] { return rs.server->http_writev(h, std::span(&v, 1)); }), -EBADF);
  EXPECT_EQ(rs.on_loop([&] { return rs.server->http_begin_chunked(h, 200); }), -EBADF);
  EXPECT_EQ(rs.on_loop([&] { return rs.server->http_post_read(h); }), -EBADF);
  EXPECT_EQ(rs.on_loop([&] { return rs.server->websocket_write(h, bytes); }), -EBADF);
  EXPECT_EQ(rs.on_loop([&] { return rs.server->http_close(h); }), -EBADF);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // five idle timeouts
  EXPECT_EQ(app.closes.load(), 0);
  ASSERT_EQ(rs.on_loop([&] { return rs.server->raw_write(h, bytes); }), 0);
  char c = 0;
  ASSERT_EQ(read(sv[1], &c, 1), 1);
  EXPECT_EQ(c, 'x');
  ASSERT_EQ(rs.on_loop([&] { return rs.server->raw_close(h); }), 0);
  app.closed.get_future().get();
  close(sv[1]);
}

struct event_app : application_methods {
  network_server* server = nullptr;
  client_num_t ev = invalid_client;
  std::atomic<std::uint64_t> triggers{0};
  std::atomic<int> errors{0};
  std::uint64_t expected_info = 0;
  std::atomic<bool> info_ok{true};
  std::promise<void> all;
  std::uint64_t want = 0;

  void server_started_callback(network_server& s) override { server = &s; }
  void event_trigger_callback(client_num_t c, std::uint64_t info) override {
    if (info != expected_info) info_ok = false;
    ++expected_info;
    if (++triggers == want) {
      all.set_value();
      return;
    }
    server->eventfd_prepare(c, expected_info);  // re-arm with the next sequence number
  }
  void event_error_close_callback(client_num_t, std::uint64_t) override { ++errors; }
};

TEST(Eventfd, HundredThousandTriggersFromAnotherThreadArriveExactlyOnceInOrder) {
  event_app app;
  app.want = 100'000;
  running_server rs(app);
  app.ev = rs.on_loop([&] { return rs.server->eventfd_open(); });
  ASSERT_NE(app.ev, invalid_client);
  ASSERT_EQ(rs.on_loop([&] { return rs.server->eventfd_prepare(app.ev, 0); }), 0);
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < app.want; ++i) ASSERT_EQ(rs.server->eventfd_trigger(app.ev), 0);
  });
  producer.join();
  ASSERT_EQ(app.all.get_future().wait_for(std::chrono::seconds(60)), std::future_status::ready);
  EXPECT_EQ(app.triggers.load(), app.want);
  EXPECT_TRUE(app.info_ok.load());
  // Nothing extra arrives afterwards.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(app.triggers.load(), app.want);
  EXPECT_EQ(app.errors.load(), 0);
}

TEST(Eventfd, ClosingAPreparedEventReportsTheErrorOnceAndRetiresTheHandle) {
  event_app app;
  running_server rs(app);
  const client_num_t ev = rs.on_loop([&] { return rs.server->eventfd_open(); });
  ASSERT_EQ(rs.on_loop([&] { return rs.server->eventfd_prepare(ev, 7); }), 0);
  ASSERT_EQ(rs.on_loop([&] { return rs.server->eventfd_close(ev); }), 0);
  // The cancelled read reports first; the handle is retired once its last completion is in.
  // Poll (generously: a loaded CI machine) rather than sleep a fixed time.
  int trigger_rc = 0;
  for (int i = 0; i < 1000 && (app.errors.load() == 0 || trigger_rc != -EBADF); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    trigger_rc = rs.server->eventfd_trigger(ev);
  }
  EXPECT_EQ(app.errors.load(), 1);
  EXPECT_EQ(trigger_rc, -EBADF);
  EXPECT_EQ(rs.on_loop([&] { return rs.server->eventfd_prepare(ev, 1); }), -EBADF);
}

TEST(Post, RunsOnTheLoopThreadInOrderFromManyThreads) {
  application_methods app;
  running_server rs(app);
  const auto loop_id = rs.on_loop([] { return std::this_thread::get_id(); });
  std::atomic<bool> wrong_thread{false};
  std::vector<std::vector<int>> seen(4);
  std::atomic<int> done{0};
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < 10'000; ++i) {
        ASSERT_EQ(rs.server->post([&, t, i] {
          if (std::this_thread::get_id() != loop_id) wrong_thread = true;
          seen[static_cast<std::size_t>(t)].push_back(i);  // loop thread only: no lock needed
          ++done;
        }), 0);
      }
    });
  }
  for (auto& p : producers) p.join();
  for (int i = 0; i < 1000 && done.load() < 40'000; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  rs.stop();
  EXPECT_FALSE(wrong_thread.load());
  for (auto& s : seen) {
    ASSERT_EQ(s.size(), 10'000u);
    for (int i = 0; i < 10'000; ++i) ASSERT_EQ(s[static_cast<std::size_t>(i)], i);
  }
  EXPECT_EQ(rs.server->post([] {}), -ESHUTDOWN);
}

}  // namespace
}  // namespace ns::test
