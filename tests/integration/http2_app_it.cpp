// SPDX-License-Identifier: MIT
// An application written for HTTP/1.1 answering HTTP/2 clients unchanged: raw HTTP/1 bytes
// through http_write (translated: hop-by-hop fields dropped, chunked body de-chunked),
// http_respond, the chunked calls, request bodies, and http_close on a stream handle resetting
// only that stream — with curl --http2, one connection for several requests.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <network_server/network_server.hpp>

#include "http_it_util.hpp"
#include "support/process.hpp"
#include "tls/self_signed.hpp"

namespace ns::test {
namespace {

class h1_app : public application_methods {
 public:
  void server_started_callback(network_server& s) override { server = &s; }
  void http_read_callback(const http_request& req, client_num_t c) override {
    {
      std::lock_guard l(m);
      handles.insert(c);
      hosts.emplace_back(req.header("Host"));
    }
    const std::string target(req.target);
    if (target == "/raw") {
      static constexpr std::string_view raw =
          "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: keep-alive\r\n"
          "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n";
      EXPECT_EQ(server->http_write(c, std::string(raw)), 0);
    } else if (target == "/chunked") {
      const http_header h[] = {{"Content-Type", "text/plain"}};
      EXPECT_EQ(server->http_begin_chunked(c, 200, h), 0);
      for (const char* piece : {"one ", "two ", "three"}) {
        EXPECT_EQ(server->http_write_chunk(c, std::as_bytes(std::span(piece, strlen(piece)))), 0);
      }
      EXPECT_EQ(server->http_end_chunked(c), 0);
    } else if (target == "/post") {
      const std::string n = std::to_string(req.body.size()) + " " + std::string(req.method);
      EXPECT_EQ(server->http_respond(c, 200, {}, n), 0);
    } else if (target == "/slow") {
      slow = c;  // answered later by the test, from the loop (post)
    } else if (target == "/close") {
      EXPECT_EQ(server->http_close(c), 0);
      EXPECT_EQ(server->http_respond(c, 200, {}, "late"), -EBADF);  // the stream is gone
    } else {
      const http_header bad[] = {{"Content-Length", "3"}};
      EXPECT_EQ(server->http_respond(c, 200, bad, "x"), -EINVAL);
      const http_header h[] = {{"X-Path", req.target}};
      EXPECT_EQ(server->http_respond(c, 201, h, "structured"), 0);
    }
  }
  void http_write_callback(client_num_t, bool failed) override {
    ++writes;
    if (failed) ++failed_writes;
  }
  void http_close_callback(client_num_t c) override {
    std::lock_guard l(m);
    closed.insert(c);
  }
  void http_response_log_callback(client_num_t, const http_request& req,
                                  const http_response_info& info) override {
    std::lock_guard l(m);
    logged.push_back(std::string(req.target) + " " + std::to_string(info.status));
  }

  network_server* server = nullptr;
  std::atomic<client_num_t> slow{invalid_client};
  std::mutex m;
  std::set<client_num_t> handles, closed;
  std::vector<std::string> hosts, logged;
  std::atomic<int> writes{0}, failed_writes{0};
};

class Http2App : public ::testing::Test {
 protected:
  void SetUp() override {
    server_config cfg;
    cfg.port = 0;
    cfg.reuse_port = false;
    tls::write_pem_files(tls::make_self_signed(), dir_.path() + "/c.pem", dir_.path() + "/k.pem");
    cfg.tls.certificates.push_back({dir_.path() + "/c.pem", dir_.path() + "/k.pem"});
    configure(cfg);
    server_ = std::make_unique<network_server>(cfg, app_);
    loop_ = std::thread([this] { rc_ = server_->start(); });
    for (int i = 0; i < 200 && server_->port() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  void TearDown() override {
    server_->stop();
    loop_.join();
    EXPECT_EQ(rc_, 0);
  }
  virtual void configure(server_config&) {}
  std::string url(const std::string& path) {
    return "https://127.0.0.1:" + std::to_string(server_->port()) + path;
  }

  temp_dir dir_;
  h1_app app_;
  std::unique_ptr<network_server> server_;
  std::thread loop_;
  int rc_ = -1;
};

TEST_F(Http2App, RawHttp1BytesAreTranslated) {
  const std::string out = curl("--http2 -i " + url("/raw"));
  EXPECT_EQ(out.rfind("HTTP/2 200", 0), 0u) << out;
  EXPECT_NE(out.find("content-type: text/plain"), std::string::npos) << out;
  EXPECT_EQ(out.find("connection:"), std::string::npos) << out;
  EXPECT_EQ(out.find("transfer-encoding"), std::string::npos) << out;
  EXPECT_EQ(out.substr(out.find("\r\n\r\n") + 4), "hello, world");
}

TEST_F(Http2App, RespondChunkedAndBodiesOnOneConnection) {
  const std::string body(100000, 'p');
  dir_.write("body.bin", body);
  const std::string out =
      curl("--http2 -w '|%{http_version} %{num_connects}\\n' " + url("/respond") + " " +
           url("/chunked") + " --data-binary @" + dir_.path() + "/body.bin " + url("/post"));
  // curl sends the --data to every URL after it; the first two are GETs.
  EXPECT_EQ(out, "structured|2 1\none two three|2 0\n100000 POST|2 0\n");
  std::lock_guard l(app_.m);
  EXPECT_EQ(app_.handles.size(), 3u);  // one handle per stream
  // Each stream's close is reported with its own handle (and the connection's with its own).
  for (const client_num_t h : app_.handles) EXPECT_EQ(app_.closed.count(h), 1u) << h;
  EXPECT_EQ(app_.hosts[0], "127.0.0.1:" + std::to_string(server_->port()));  // from :authority
  EXPECT_EQ(app_.logged, (std::vector<std::string>{"/respond 201", "/chunked 200", "/post 200"}));
  EXPECT_EQ(app_.writes.load(), 3);
  EXPECT_EQ(app_.failed_writes.load(), 0);
}

TEST_F(Http2App, ClosingAStreamHandleResetsOnlyThatStream) {
  const std::string out =
      curl("--http2 -o /dev/null -o /dev/null -w '%{http_code} %{num_connects}\\n' " +
           url("/close") + " " + url("/after"));
  // The first stream is reset (no status); the second is answered on the same connection.
  EXPECT_EQ(out.substr(out.find('\n') + 1), "201 0\n") << out;
  EXPECT_EQ(out.rfind("000 1\n", 0), 0u) << out;
}

class Http2AppSmallBodies : public Http2App {
 protected:
  void configure(server_config& cfg) override { cfg.http.max_body_bytes = 64 * 1024; }
};

TEST_F(Http2AppSmallBodies, BodiesOverTheLimitAre413AndTheConnectionGoesOn) {
  dir_.write("big.bin", std::string(100000, 'b'));
  dir_.write("ok.bin", std::string(1000, 'o'));
  // One connection: a body over the limit is answered 413 (its stream only), the next is read.
  // curl joins every --data of one request set, so each request is its own set (--next); the
  // second one's num_connects says it reused the connection.
  const std::string out = curl("--http2 -o /dev/null -w '%{http_code} ' --data-binary @" +
                               dir_.path() + "/big.bin " + url("/post") +
                               " --next --insecure --silent --http2 -o /dev/null"
                               " -w '%{http_code} %{num_connects}' --data-binary @" +
                               dir_.path() + "/ok.bin " + url("/post"));
  EXPECT_EQ(out, "413 200 0") << out;
}

TEST_F(Http2AppSmallBodies, ConcurrentBodiesShareOneBound) {
  // Two 40 KiB bodies at once on one connection (h2load -m 2): together over the 64 KiB bound,
  // so one is refused — a connection's streams cannot hold more than one body's worth.
  dir_.write("mid.bin", std::string(40 * 1024, 'm'));
  const std::string out =
      run_command("h2load -n 2 -c 1 -m 2 -d " + dir_.path() + "/mid.bin " + url("/post") + " 2>&1");
  EXPECT_NE(out.find("status codes: 1 2xx, 0 3xx, 1 4xx, 0 5xx"), std::string::npos) << out;
}

class Http2AppShortIdle : public Http2App {
 protected:
  void configure(server_config& cfg) override { cfg.idle_timeout = std::chrono::seconds(1); }
};

TEST_F(Http2AppShortIdle, AStreamWaitingOnTheApplicationHasNoDeadline) {
  // The idle timeout is for an idle connection or a peer that does not read; an application
  // that takes longer than it to answer still answers (as on HTTP/1.1).
  auto answer = std::async(std::launch::async, [this] {
    for (int i = 0; i < 300 && app_.slow.load() == invalid_client; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    server_->post([this] { server_->http_respond(app_.slow.load(), 200, {}, "slow but sure"); });
  });
  EXPECT_EQ(curl("--http2 " + url("/slow")), "slow but sure");
  answer.get();
}

}  // namespace
}  // namespace ns::test
