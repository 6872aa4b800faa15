// SPDX-License-Identifier: MIT
// The library API through a real TLS connection: a network_server runs on a thread of the test,
// the application records every callback.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <thread>
#include <vector>

#include <network_server/network_server.hpp>

#include "support/process.hpp"
#include "support/tls_client.hpp"
#include "tls/self_signed.hpp"

namespace ns::test {
namespace {

// Answers "GET /x" with "x" (the path as body); records callbacks.
class echo_path_app : public application_methods {
 public:
  void server_started_callback(network_server& s) override { server = &s; }
  void accept_callback(client_num_t c) override {
    std::lock_guard l(m);
    accepted.push_back(c);
  }
  void http_read_callback(const http_request& req, client_num_t c) override {
    {
      std::lock_guard l(m);
      targets.emplace_back(req.target);
      last_client = c;
    }
    if (req.target == "/close") {
      server->http_close(c);
      return;
    }
    const std::string body(req.target);
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    if (req.target == "/writev") {
      iovec v[2] = {{const_cast<char*>(head.data()), head.size()},
                    {const_cast<char*>(body.data()), body.size()}};
      EXPECT_EQ(server->http_writev(c, v), 0);
    } else {
      EXPECT_EQ(server->http_write(c, head + body), 0);
    }
  }
  void http_write_callback(client_num_t, bool failed) override {
    ++writes;
    if (failed) ++failed_writes;
  }
  void http_writev_callback(client_num_t, bool failed) override {
    ++writevs;
    if (failed) ++failed_writes;
  }
  void http_close_callback(client_num_t c) override {
    std::lock_guard l(m);
    closed.push_back(c);
    // A closed handle is dead: every method refuses it and calls nothing.
    stale_write_rc = server->http_write(c, std::string_view("x"));
    stale_close_rc = server->http_close(c);
  }

  network_server* server = nullptr;
  std::mutex m;
  std::vector<client_num_t> accepted, closed;
  std::vector<std::string> targets;
  client_num_t last_client = invalid_client;
  std::atomic<int> writes{0}, writevs{0}, failed_writes{0};
  std::atomic<int> stale_write_rc{0}, stale_close_rc{0};
};

class ServerApi : public ::testing::Test {
 protected:
  void start(bool plaintext = false) {
    server_config cfg;
    cfg.port = 0;
    cfg.reuse_port = false;  // port 0 + SO_REUSEPORT could share a port with a parallel test
    cfg.plaintext = plaintext;
    if (!plaintext) {
      tls::write_pem_files(tls::make_self_signed(), dir_.path() + "/c.pem", dir_.path() + "/k.pem");
      cfg.tls.certificates.push_back({dir_.path() + "/c.pem", dir_.path() + "/k.pem"});
    }
    server_ = std::make_unique<network_server>(cfg, app_);
    port_ = server_->port();
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
  echo_path_app app_;
  std::unique_ptr<network_server> server_;
  std::thread loop_;
  std::uint16_t port_ = 0;
  int rc_ = -1;
};

TEST_F(ServerApi, CallbacksFireOncePerEventAndStaleHandlesAreRefused) {
  start();
  {
    tls_client c;
    ASSERT_TRUE(c.connect(port_)) << c.error();
    ASSERT_TRUE(c.write("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(c.read_response().body, "/a");
    ASSERT_TRUE(c.write("GET /writev HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(c.read_response().body, "/writev");
  }
  for (int i = 0; i < 500 && app_.closed.empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::lock_guard l(app_.m);
  ASSERT_EQ(app_.accepted.size(), 1u);
  ASSERT_EQ(app_.closed.size(), 1u);
  EXPECT_EQ(app_.accepted[0], app_.closed[0]);
  EXPECT_EQ(app_.writes.load(), 1);
  EXPECT_EQ(app_.writevs.load(), 1);
  EXPECT_EQ(app_.failed_writes.load(), 0);
  EXPECT_EQ(app_.stale_write_rc.load(), -EBADF);
  EXPECT_EQ(app_.stale_close_rc.load(), -EBADF);
}

TEST_F(ServerApi, PipelinedRequestsAreAnsweredInOrder) {
  start();
  tls_client c;
  ASSERT_TRUE(c.connect(port_)) << c.error();
  std::string batch;
  for (int i = 0; i < 20; ++i) batch += "GET /p" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_TRUE(c.write(batch));
  for (int i = 0; i < 20; ++i) EXPECT_EQ(c.read_response().body, "/p" + std::to_string(i));
}

TEST_F(ServerApi, HttpCloseEndsTheConnection) {
  start();
  tls_client c;
  ASSERT_TRUE(c.connect(port_)) << c.error();
  ASSERT_TRUE(c.write("GET /close HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(ServerApi, ConnectionCloseHeaderIsHonoured) {
  start();
  tls_client c;
  ASSERT_TRUE(c.connect(port_)) << c.error();
  ASSERT_TRUE(c.write("GET /bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(c.read_response().body, "/bye");
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(ServerApi, PlaintextModeServesHttp) {
  start(/*plaintext=*/true);
  const int fd = tcp_connect(port_);
  ASSERT_GE(fd, 0);
  const std::string req = "GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  std::string got;
  char buf[512];
  ssize_t n = 0;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) got.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  EXPECT_NE(got.find("HTTP/1.1 200 OK"), std::string::npos);
  EXPECT_EQ(got.substr(got.size() - 6), "/plain");
}

TEST_F(ServerApi, StopClosesOpenConnectionsAndReturns) {
  start();
  tls_client c;
  ASSERT_TRUE(c.connect(port_)) << c.error();
  server_->stop();
  loop_.join();
  EXPECT_EQ(rc_, 0);
  EXPECT_TRUE(c.wait_closed());
  server_.reset();
  std::lock_guard l(app_.m);
  EXPECT_EQ(app_.closed.size(), 1u);
}

TEST(ServerSetup, BusyPortIsAClearError) {
  echo_path_app app;
  server_config cfg;
  cfg.plaintext = true;
  cfg.port = 0;
  cfg.reuse_port = false;
  network_server first(cfg, app);
  cfg.port = first.port();
  try {
    network_server second(cfg, app);
    FAIL() << "second bind succeeded";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("Address already in use"), std::string::npos) << e.what();
  }
}

TEST(ServerSetup, MissingCertificateIsAClearError) {
  echo_path_app app;
  server_config cfg;
  cfg.port = 0;
  cfg.tls.certificates.push_back({"/nonexistent/cert.pem", "/nonexistent/key.pem"});
  try {
    network_server s(cfg, app);
    FAIL() << "server started without its certificate";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/cert.pem"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ns::test
