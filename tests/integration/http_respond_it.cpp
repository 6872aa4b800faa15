// SPDX-License-Identifier: MIT
// http_respond (structured responses) through a real TLS connection: the server formats the
// head, frames the body, keeps or closes the connection, and reports the status to the access
// log without reading it back from bytes. Also the one API guard on handles of other kinds.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include <network_server/network_server.hpp>

#include "support/process.hpp"
#include "support/tls_client.hpp"
#include "tls/self_signed.hpp"

namespace ns::test {
namespace {

class respond_app : public application_methods {
 public:
  void server_started_callback(network_server& s) override { server = &s; }
  void http_read_callback(const http_request& req, client_num_t c) override {
    const std::string target(req.target);
    if (target == "/bad") {
      // Every refusal leaves the request unanswered; a valid response follows.
      const http_header crlf[] = {{"X-A", "1\r\nX-Injected: 2"}};
      const http_header framing[] = {{"content-length", "5"}};
      const http_header nameless[] = {{"", "x"}};
      std::lock_guard l(m);
      refusals = {server->http_respond(c, 99, {}, "x"), server->http_respond(c, 1000, {}, "x"),
                  server->http_respond(c, 200, crlf, "x"),
                  server->http_respond(c, 200, framing, "x"),
                  server->http_respond(c, 200, nameless, "x")};
    }
    const int status = target == "/204" ? 204 : target == "/304" ? 304 : 201;
    const http_header h[] = {{"Content-Type", "text/plain"}, {"X-Path", req.target}};
    EXPECT_EQ(server->http_respond(c, status, h, "structured " + target), 0);
  }
  void http_write_callback(client_num_t, bool failed) override {
    ++writes;
    if (failed) ++failed_writes;
  }
  void http_response_log_callback(client_num_t, const http_request& req,
                                  const http_response_info& info) override {
    std::lock_guard l(m);
    logged.push_back(std::string(req.target) + " " + std::to_string(info.status) + " " +
                     std::to_string(info.bytes));
  }

  network_server* server = nullptr;
  std::mutex m;
  std::vector<int> refusals;
  std::vector<std::string> logged;
  std::atomic<int> writes{0}, failed_writes{0};
};

class HttpRespond : public ::testing::Test {
 protected:
  void SetUp() override {
    server_config cfg;
    cfg.port = 0;
    cfg.reuse_port = false;
    tls::write_pem_files(tls::make_self_signed(), dir_.path() + "/c.pem", dir_.path() + "/k.pem");
    cfg.tls.certificates.push_back({dir_.path() + "/c.pem", dir_.path() + "/k.pem"});
    server_ = std::make_unique<network_server>(cfg, app_);
    loop_ = std::thread([this] { rc_ = server_->start(); });
  }
  void TearDown() override {
    server_->stop();
    loop_.join();
    EXPECT_EQ(rc_, 0);
  }
  std::vector<std::string> logged() {
    std::lock_guard l(app_.m);
    return app_.logged;
  }

  temp_dir dir_;
  respond_app app_;
  std::unique_ptr<network_server> server_;
  std::thread loop_;
  int rc_ = -1;
};

TEST_F(HttpRespond, FormatsTheHeadFramesTheBodyAndLogsTheStatus) {
  tls_client c;
  ASSERT_TRUE(c.connect(server_->port())) << c.error();
  ASSERT_TRUE(c.write("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"));
  const http_response r = c.read_response();
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, "structured /a");
  EXPECT_EQ(r.headers.at("content-length"), "13");
  EXPECT_EQ(r.headers.at("content-type"), "text/plain");
  EXPECT_EQ(r.headers.at("x-path"), "/a");
  EXPECT_EQ(r.headers.at("connection"), "keep-alive");
  EXPECT_EQ(r.headers.count("date"), 1u);

  // HEAD: the same Content-Length, no body; the connection stays usable.
  ASSERT_TRUE(c.write("HEAD /b HTTP/1.1\r\nHost: x\r\n\r\n"));
  const http_response h = c.read_response(true);
  EXPECT_EQ(h.status, 201);
  EXPECT_EQ(h.headers.at("content-length"), "13");
  EXPECT_TRUE(h.body.empty());

  // 204 and 304 carry neither a body nor a Content-Length (RFC 9110 §8.6, §15.4.5).
  for (const char* t : {"/204", "/304"}) {
    ASSERT_TRUE(c.write(std::string("GET ") + t + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    const http_response e = c.read_response(true);
    EXPECT_EQ(e.status, std::atoi(t + 1));
    EXPECT_EQ(e.headers.count("content-length"), 0u);
    EXPECT_TRUE(e.body.empty());
  }
  ASSERT_TRUE(c.write("GET /c HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.read_response().body, "structured /c");
  c.close();
  // The log hears of a response when it is queued, the write callback once it is sent.
  for (int i = 0; i < 200 && (logged().size() < 5 || app_.writes.load() < 5); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const std::vector<std::string> log = logged();
  ASSERT_EQ(log.size(), 5u);
  EXPECT_EQ(log[0].substr(0, 7), "/a 201 ");
  EXPECT_EQ(log[1].substr(0, 7), "/b 201 ");
  EXPECT_EQ(log[2].substr(0, 9), "/204 204 ");
  EXPECT_EQ(log[3].substr(0, 9), "/304 304 ");
  EXPECT_EQ(app_.writes.load(), 5);
  EXPECT_EQ(app_.failed_writes.load(), 0);
}

TEST_F(HttpRespond, HttpOneZeroWithoutKeepAliveIsClosedAfterTheResponse) {
  tls_client c;
  ASSERT_TRUE(c.connect(server_->port())) << c.error();
  ASSERT_TRUE(c.write("GET /old HTTP/1.0\r\n\r\n"));
  const http_response r = c.read_response();
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.headers.at("connection"), "close");
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(HttpRespond, RefusesWhatItCannotFrame) {
  tls_client c;
  ASSERT_TRUE(c.connect(server_->port())) << c.error();
  ASSERT_TRUE(c.write("GET /bad HTTP/1.1\r\nHost: x\r\n\r\n"));
  const http_response r = c.read_response();
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.headers.count("x-injected"), 0u);
  std::lock_guard l(app_.m);
  EXPECT_EQ(app_.refusals, (std::vector<int>{-EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL}));
}

TEST_F(HttpRespond, StaleAndForeignHandlesAreRefused) {
  const auto on_loop = [this](auto fn) {
    std::promise<int> p;
    EXPECT_EQ(server_->post([&] { p.set_value(fn()); }), 0);
    return p.get_future().get();
  };
  EXPECT_EQ(on_loop([&] { return server_->http_respond(invalid_client, 200, {}, "x"); }), -EBADF);
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  client_num_t raw = invalid_client;
  ASSERT_EQ(on_loop([&] { return server_->raw_adopt(sv[0], raw); }), 0);
  EXPECT_EQ(on_loop([&] { return server_->http_respond(raw, 200, {}, "x"); }), -EBADF);
  EXPECT_EQ(on_loop([&] { return server_->raw_close(raw); }), 0);
  close(sv[1]);
}

}  // namespace
}  // namespace ns::test
