// SPDX-License-Identifier: MIT
// The io core under pressure: connection limits, timeouts, peers that vanish, graceful stop.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>
#include <vector>

#include <network_server/network_server.hpp>

#include "support/process.hpp"
#include "support/tls_client.hpp"
#include "tls/self_signed.hpp"

namespace ns::test {
namespace {

// SSL_read that retries EINTR (an io_uring in this process can interrupt blocking reads).
int ssl_read(SSL* ssl, void* buf, int n) {
  for (;;) {
    errno = 0;
    const int r = SSL_read(ssl, buf, n);
    if (r > 0 || SSL_get_error(ssl, r) != SSL_ERROR_SYSCALL || errno != EINTR) return r;
  }
}

using clock_type = std::chrono::steady_clock;

void raise_fd_limit() {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
}

// Waits until @p fd is closed by the peer; returns the time it took (or a huge value).
std::chrono::milliseconds time_until_closed(int fd, std::chrono::seconds limit) {
  const auto start = clock_type::now();
  timeval tv{static_cast<time_t>(limit.count()), 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n > 0) continue;                    // e.g. a TLS alert or close_notify
    if (n < 0 && errno == EINTR) continue;  // the in-process server's ring, not the peer
    if (n == 0 || errno == ECONNRESET) break;
    return std::chrono::hours(1);  // timed out
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start);
}

struct hello_app : application_methods {
  network_server* server = nullptr;
  void server_started_callback(network_server& s) override { server = &s; }
  void http_read_callback(const http_request& req, client_num_t c) override {
    if (req.target == "/big") {
      server->http_write(
          c, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(big.size()) + "\r\n\r\n" + big);
      return;
    }
    server->http_write(c, std::string_view("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
  }
  void http_write_callback(client_num_t, bool failed) override {
    (failed ? failed_writes : writes)++;
  }
  std::string big = std::string(4 * 1024 * 1024, 'b');
  std::atomic<int> writes{0}, failed_writes{0};
};

class InProcess : public ::testing::Test {
 protected:
  void start(server_config cfg) {
    tls::write_pem_files(tls::make_self_signed(), dir_.path() + "/c.pem", dir_.path() + "/k.pem");
    cfg.port = 0;
    cfg.reuse_port = false;  // port 0 + SO_REUSEPORT could share a port with a parallel test
    cfg.tls.certificates.push_back({dir_.path() + "/c.pem", dir_.path() + "/k.pem"});
    server_ = std::make_unique<network_server>(cfg, app_);
    loop_ = std::thread([this] { rc_ = server_->start(); });
  }
  void TearDown() override {
    if (server_) {
      server_->stop();
      loop_.join();
      EXPECT_EQ(rc_, 0);
    }
  }
  temp_dir dir_;
  hello_app app_;
  std::unique_ptr<network_server> server_;
  std::thread loop_;
  int rc_ = -1;
};

TEST_F(InProcess, HandshakeTimeoutClosesASilentConnection) {
  server_config cfg;
  cfg.handshake_timeout = std::chrono::milliseconds(500);
  start(cfg);
  const int fd = tcp_connect(server_->port());
  ASSERT_GE(fd, 0);
  const auto took = time_until_closed(fd, std::chrono::seconds(5));
  ::close(fd);
  EXPECT_GE(took.count(), 400);
  EXPECT_LE(took.count(), 1500);
}

TEST_F(InProcess, IdleTimeoutClosesAKeepAliveConnection) {
  server_config cfg;
  cfg.idle_timeout = std::chrono::milliseconds(700);
  start(cfg);
  tls_client c;
  ASSERT_TRUE(c.connect(server_->port())) << c.error();
  ASSERT_TRUE(c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_EQ(c.read_response().status, 200);
  const auto start = clock_type::now();
  EXPECT_TRUE(c.wait_closed());
  const auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start);
  EXPECT_GE(took.count(), 500);
  EXPECT_LE(took.count(), 1700);
}

TEST_F(InProcess, HeaderTimeoutClosesASlowlorisRequest) {
  server_config cfg;
  cfg.header_timeout = std::chrono::milliseconds(600);
  start(cfg);
  tls_client c;
  ASSERT_TRUE(c.connect(server_->port())) << c.error();
  ASSERT_TRUE(c.write("GET / HTTP/1.1\r\nHo"));  // and then nothing more
  const auto start = clock_type::now();
  EXPECT_TRUE(c.wait_closed());
  const auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start);
  EXPECT_LE(took.count(), 1600);
}

TEST_F(InProcess, PeerResetMidWriteFailsTheWriteOnceAndServerGoesOn) {
  server_config cfg;
  start(cfg);
  for (int i = 0; i < 5; ++i) {
    tls_client c;
    ASSERT_TRUE(c.connect(server_->port())) << c.error();
    ASSERT_TRUE(c.write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n"));
    char buf[1024];
    ASSERT_GT(ssl_read(c.ssl(), buf, sizeof(buf)), 0);  // the response has started
    linger lg{1, 0};
    setsockopt(c.fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));  // close → RST
    ::close(c.fd());
    SSL_set_fd(c.ssl(), -1);
  }
  for (int i = 0; i < 300 && app_.failed_writes.load() + app_.writes.load() < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(app_.failed_writes.load() + app_.writes.load(), 5);  // exactly once each
  EXPECT_EQ(https_get(server_->port(), "/").status, 200);
}

TEST_F(InProcess, StopLetsAQueuedResponseFinish) {
  server_config cfg;
  start(cfg);
  tls_client c;
  ASSERT_TRUE(c.connect(server_->port())) << c.error();
  ASSERT_TRUE(c.write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n"));
  char first[16];
  ASSERT_GT(ssl_read(c.ssl(), first, 1), 0);  // response under way
  server_->stop();
  // The whole 4 MiB still arrives before the connection closes.
  std::string rest(first, 1);
  char buf[65536];
  for (;;) {
    const int n = ssl_read(c.ssl(), buf, sizeof(buf));
    if (n <= 0) break;
    rest.append(buf, static_cast<std::size_t>(n));
  }
  loop_.join();
  server_.reset();
  EXPECT_GE(rest.size(), app_.big.size());
  EXPECT_EQ(rest.substr(rest.size() - 16), std::string(16, 'b'));
}

// ns_serve limited to 1,000 connections faced with 2,000.
TEST(ConnectionLimit, TwoThousandClientsAgainstALimitOfOneThousand) {
  raise_fd_limit();
  temp_dir dir;
  dir.write("www/index.html", "hello");
  tls::write_pem_files(tls::make_self_signed(), dir.path() + "/c.pem", dir.path() + "/k.pem");
  served s = start_ns_serve({"--root", dir.path() + "/www", "--cert", dir.path() + "/c.pem",
                             "--key", dir.path() + "/k.pem", "--threads", "1", "--max-connections",
                             "1000", "--log-level", "error"});
  ASSERT_NE(s.port, 0) << s.process->stderr_text();
  ASSERT_EQ(https_get(s.port, "/").status, 200);
  const int baseline = settled_fd_count(s.process->pid());

  std::vector<std::unique_ptr<tls_client>> served_clients;
  for (int i = 0; i < 1000; ++i) {
    auto c = std::make_unique<tls_client>();
    ASSERT_TRUE(c->connect(s.port)) << i << ": " << c->error();
    served_clients.push_back(std::move(c));
  }
  // 1,000 more: each is refused (closed at once) while the first thousand stay up.
  int refused = 0;
  std::vector<int> extra;
  for (int i = 0; i < 1000; ++i) {
    const int fd = tcp_connect(s.port);
    if (fd < 0) {
      ++refused;
      continue;
    }
    extra.push_back(fd);
  }
  for (int fd : extra) {
    if (time_until_closed(fd, std::chrono::seconds(5)) < std::chrono::seconds(5)) ++refused;
    ::close(fd);
  }
  EXPECT_EQ(refused, 1000);
  // The server stays responsive for the ones it admitted.
  for (int i = 0; i < 1000; i += 97) {
    auto& c = *served_clients[static_cast<std::size_t>(i)];
    ASSERT_TRUE(c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(c.read_response().body, "hello") << i;
  }
  served_clients.clear();
  // Once all have gone, a new client is served again and the fd count is back where it started.
  EXPECT_EQ(wait_fd_count_at_most(s.process->pid(), baseline, std::chrono::seconds(5)), baseline);
  EXPECT_EQ(https_get(s.port, "/").status, 200);
  EXPECT_EQ(s.process->stop(SIGTERM, std::chrono::seconds(10)), 0);
}

TEST(Threads, TwoLoopsShareOnePortAndBothStop) {
  temp_dir dir;
  dir.write("www/index.html", "hi");
  tls::write_pem_files(tls::make_self_signed(), dir.path() + "/c.pem", dir.path() + "/k.pem");
  served s =
      start_ns_serve({"--root", dir.path() + "/www", "--cert", dir.path() + "/c.pem", "--key",
                      dir.path() + "/k.pem", "--threads", "2", "--log-level", "error"});
  ASSERT_NE(s.port, 0) << s.process->stderr_text();
  for (int i = 0; i < 50; ++i) ASSERT_EQ(https_get(s.port, "/").body, "hi");
  EXPECT_EQ(s.process->stop(SIGINT, std::chrono::seconds(10)), 0);
}

}  // namespace
}  // namespace ns::test
