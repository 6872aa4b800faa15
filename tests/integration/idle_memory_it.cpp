// SPDX-License-Identifier: MIT
// Heap bytes the server holds per idle connection (issue 11): after one 16 KiB response (TLS
// keep-alive) or one 16 KiB echoed message (WSS) a connection that stays idle must give back
// its buffers. The clients run in a forked process so that only the server's allocations are
// counted; the server runs on a thread of this process. bench/run.sh measures the same as RSS
// against nginx and node.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/heap.hpp"
#include "ws_support.hpp"

namespace ns::test {
namespace {

constexpr int conns = 200;
constexpr std::size_t payload_bytes = 16 * 1024;
// Longer than the server's idle release delay (200 ms) plus one release period.
constexpr auto settle = std::chrono::milliseconds(600);

// Answers every plain request with a 16 KiB body; WebSockets are echoed by ws_test_app.
class big_response_app : public ws_test_app {
 public:
  void http_read_callback(const http_request&, client_num_t c) override {
    const std::string body(payload_bytes, 'b');
    server->http_write(
        c, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  }
};

enum class kind { tls_keep_alive, wss };

// Child: opens the connections on command and holds them until told to exit.
[[noreturn]] void client_process(int cmd_fd, int ack_fd, kind k) {
  std::uint16_t port = 0;
  if (read(cmd_fd, &port, sizeof port) != sizeof port) _exit(2);
  std::vector<std::unique_ptr<tls_client>> https;
  std::vector<std::unique_ptr<ws_client>> wss;
  auto open = [&](int n) {
    for (int i = 0; i < n; ++i) {
      if (k == kind::tls_keep_alive) {
        auto c = std::make_unique<tls_client>();
        if (!c->connect(port) || !c->write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"))
          return false;
        if (c->read_response().body.size() != payload_bytes) return false;
        https.push_back(std::move(c));
      } else {
        auto c = std::make_unique<ws_client>();
        if (!c->connect(port) || c->status() != 101) return false;
        const std::string msg = make_payload(payload_bytes, false);
        if (!c->send(ws::opcode::binary, msg)) return false;
        const auto echo = c->next_message();
        if (!echo || echo->data != msg) return false;
        wss.push_back(std::move(c));
      }
    }
    return true;
  };
  char go = 0;
  // One connection first: what the server allocates once (per-thread state) is not per
  // connection.
  char ok = open(1) ? 'y' : 'n';
  if (write(ack_fd, &ok, 1) != 1 || read(cmd_fd, &go, 1) != 1) _exit(2);
  ok = open(conns) ? 'y' : 'n';
  if (write(ack_fd, &ok, 1) != 1 || read(cmd_fd, &go, 1) != 1) _exit(2);
  _exit(0);
}

// Heap bytes per idle connection of @p k.
std::size_t bytes_per_idle_connection(kind k) {
  int cmd[2];
  int ack[2];
  EXPECT_EQ(pipe(cmd), 0);
  EXPECT_EQ(pipe(ack), 0);
  // Forked before the server thread exists: the child is single-threaded.
  const pid_t pid = fork();
  if (pid == 0) {
    close(cmd[1]);
    close(ack[0]);
    client_process(cmd[0], ack[1], k);
  }
  close(cmd[0]);
  close(ack[1]);
  std::size_t per = 0;
  {
    big_response_app app;
    ws_server server({}, &app);
    const std::uint16_t port = server.port();
    char ok = 0;
    EXPECT_EQ(write(cmd[1], &port, sizeof port), static_cast<ssize_t>(sizeof port));
    EXPECT_EQ(read(ack[0], &ok, 1), 1);
    EXPECT_EQ(ok, 'y') << "warm-up connection failed";
    std::this_thread::sleep_for(settle);
    const std::size_t before = heap_in_use();
    EXPECT_EQ(write(cmd[1], "g", 1), 1);
    EXPECT_EQ(read(ack[0], &ok, 1), 1);
    EXPECT_EQ(ok, 'y') << "a client connection failed";
    std::this_thread::sleep_for(settle);
    const std::size_t after = heap_in_use();
    per = after > before ? (after - before) / conns : 0;
    EXPECT_EQ(write(cmd[1], "x", 1), 1);
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  close(cmd[1]);
  close(ack[0]);
  return per;
}

// The bounds: a TLS 1.3 connection hands its records over to tls::record_layer and frees the
// OpenSSL SSL object (~14 KB after a handshake); what remains idle is the record layer's keys
// and small bookkeeping (measured: ~0.6 KB TLS, ~1.1 KB WSS). A kept SSL object, 16 KiB TLS
// buffer, cipher context, parser reserve or message buffer breaks them.
TEST(IdleMemory, TlsKeepAliveConnectionAfterA16KiBResponse) {
  const std::size_t per = bytes_per_idle_connection(kind::tls_keep_alive);
  std::printf("[ idle memory ] TLS keep-alive: %zu heap bytes per idle connection\n", per);
  RecordProperty("bytes_per_idle_tls_connection", static_cast<int>(per));
  EXPECT_LT(per, 4u * 1024u);
}

TEST(IdleMemory, WssConnectionAfterA16KiBEcho) {
  const std::size_t per = bytes_per_idle_connection(kind::wss);
  std::printf("[ idle memory ] WSS: %zu heap bytes per idle connection\n", per);
  RecordProperty("bytes_per_idle_wss_connection", static_cast<int>(per));
  EXPECT_LT(per, 6u * 1024u);
}

}  // namespace
}  // namespace ns::test
