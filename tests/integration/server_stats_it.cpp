// SPDX-License-Identifier: MIT
// network_server::stats() and application_methods::http_response_log_callback through real TLS
// connections: every kind of response reports its status and exact byte count once, and the
// counters move with connections, requests, bytes, handshakes and errors.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include <network_server/network_server.hpp>

#include "support/eventually.hpp"
#include "support/process.hpp"
#include "support/tls_client.hpp"
#include "tls/self_signed.hpp"

namespace ns::test {
namespace {

struct logged {
  std::string target;
  int status = 0;
  std::uint64_t bytes = 0;
  std::string peer;
};

const std::string hello_response = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

class logging_app : public application_methods {
 public:
  void server_started_callback(network_server& s) override { server = &s; }
  void http_read_callback(const http_request& req, client_num_t c) override {
    if (req.path() == "/hello") {
      server->http_write(c, hello_response);
    } else if (req.path() == "/chunked") {
      server->http_begin_chunked(c, 200);
      server->http_write_chunk(c, std::string_view("abc"));
      server->http_end_chunked(c);
    } else if (req.path() == "/created") {
      server->http_write(c, std::string_view("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"));
    } else {
      server->http_send_file(c, req);  // index.html, or the 404 page
    }
  }
  void http_response_log_callback(client_num_t, const http_request& req,
                                  const http_response_info& info) override {
    std::lock_guard l(m);
    log.push_back({std::string(req.target), info.status, info.bytes, std::string(info.peer)});
  }
  std::vector<logged> entries() {
    std::lock_guard l(m);
    return log;
  }

  network_server* server = nullptr;
  std::mutex m;
  std::vector<logged> log;
};

class ServerStats : public ::testing::Test {
 protected:
  void SetUp() override {
    server_config cfg;
    cfg.port = 0;
    cfg.header_timeout = std::chrono::milliseconds(300);
    tls::write_pem_files(tls::make_self_signed(), dir_.path() + "/c.pem", dir_.path() + "/k.pem");
    cfg.tls.certificates.push_back({dir_.path() + "/c.pem", dir_.path() + "/k.pem"});
    dir_.write("www/index.html", "<p>index</p>\n");
    cfg.files.document_root = dir_.path() + "/www";
    server_ = std::make_unique<network_server>(cfg, app_);
    port_ = server_->port();
    loop_ = std::thread([this] { rc_ = server_->start(); });
  }
  void TearDown() override {
    server_->stop();
    loop_.join();
    EXPECT_EQ(rc_, 0);
  }
  // stats() belongs to the loop thread: read it there.
  server_stats stats() {
    std::promise<server_stats> p;
    auto f = p.get_future();
    EXPECT_EQ(server_->post([&] { p.set_value(server_->stats()); }), 0);
    return f.get();
  }
  int raw_connect() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port_);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    return fd;
  }

  temp_dir dir_;
  logging_app app_;
  std::unique_ptr<network_server> server_;
  std::thread loop_;
  std::uint16_t port_ = 0;
  int rc_ = -1;
};

TEST_F(ServerStats, EveryResponseKindIsLoggedOnceWithStatusAndBytes) {
  std::string chunked;
  {
    tls_client c;
    ASSERT_TRUE(c.connect(port_)) << c.error();
    for (const char* target : {"/hello", "/", "/missing", "/created"}) {
      ASSERT_TRUE(c.write(std::string("GET ") + target + " HTTP/1.1\r\nHost: x\r\n\r\n"));
      EXPECT_TRUE(c.read_response().complete) << target;
    }
    // The file again: now from the cache.
    ASSERT_TRUE(c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(c.read_response().status, 200);
    // 100-continue: the interim 100 is not the response's status (RFC 9110 §15.2).
    ASSERT_TRUE(
        c.write("POST /created HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                "Content-Length: 2\r\n\r\n"));
    EXPECT_EQ(c.read_response().status, 100);
    ASSERT_TRUE(c.write("ok"));
    EXPECT_EQ(c.read_response().status, 201);
    // A chunked response (no length: read it to the close the request asks for).
    ASSERT_TRUE(c.write("GET /chunked HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    chunked = c.read_until_close();
    EXPECT_EQ(chunked.rfind("HTTP/1.1 200", 0), 0u) << chunked;
    EXPECT_NE(chunked.find("\r\n\r\n3\r\nabc\r\n0\r\n\r\n"), std::string::npos) << chunked;
  }
  ASSERT_TRUE(eventually([&] { return app_.entries().size() >= 7; }));
  const auto log = app_.entries();
  ASSERT_EQ(log.size(), 7u);
  EXPECT_EQ(log[0].target, "/hello");
  EXPECT_EQ(log[0].status, 200);
  EXPECT_EQ(log[0].bytes, hello_response.size());  // exactly what the application wrote
  EXPECT_EQ(log[0].peer.rfind("127.0.0.1:", 0), 0u) << log[0].peer;
  EXPECT_EQ(log[1].target, "/");
  EXPECT_EQ(log[1].status, 200);
  EXPECT_GT(log[1].bytes, std::string("<p>index</p>\n").size());  // head + body
  EXPECT_EQ(log[2].status, 404);
  EXPECT_EQ(log[3].status, 201);
  EXPECT_EQ(log[4].target, "/");
  EXPECT_EQ(log[4].bytes, log[1].bytes);  // the cached answer has the same size
  EXPECT_EQ(log[5].target, "/created");
  EXPECT_EQ(log[5].status, 201);
  EXPECT_EQ(log[6].target, "/chunked");
  EXPECT_EQ(log[6].status, 200);
  EXPECT_EQ(log[6].bytes, chunked.size());  // head and every chunk, as sent

  const server_stats s = stats();
  EXPECT_EQ(s.connections_total, 1u);
  EXPECT_TRUE(eventually([&] { return stats().connections_open == 0; }));
  EXPECT_EQ(s.requests, 7u);
  EXPECT_EQ(s.responses, 7u);
  EXPECT_EQ(s.tls_handshakes, 1u);
  EXPECT_EQ(s.tls_resumptions, 0u);
  EXPECT_GT(s.bytes_in, 200u);
  EXPECT_GT(s.bytes_out, hello_response.size());
  EXPECT_GE(s.cache_misses, 1u);  // the first "/"
  EXPECT_GE(s.cache_hits, 1u);    // the second
  EXPECT_EQ(s.errors.http + s.errors.timeouts + s.errors.tls + s.errors.tls_handshake, 0u);
}

TEST_F(ServerStats, ConnectionBuffersAreCountedWhileBusyAndFreedWhenIdle) {
  tls_client c;
  ASSERT_TRUE(c.connect(port_)) << c.error();
  // A request cut short holds the parser's storage and its bytes: counted while it lasts.
  ASSERT_TRUE(c.write("GET /hello HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(3000, 'p')));
  EXPECT_TRUE(eventually([&] { return stats().connection_bytes >= 3000; }));
  ASSERT_TRUE(c.write("\r\n\r\n"));
  EXPECT_EQ(c.read_response().status, 200);
  // Idle for longer than the release delay: the connection gives its buffers back.
  EXPECT_TRUE(eventually([&] { return stats().connection_bytes == 0; }));
  EXPECT_EQ(stats().connections_open, 1u);
}

TEST_F(ServerStats, ErrorsAreCountedByKind) {
  {  // A malformed request: the server's own 400 (no log entry: there is no request).
    tls_client c;
    ASSERT_TRUE(c.connect(port_)) << c.error();
    ASSERT_TRUE(c.write("GET / HTTP/1.1\r\nHost: x\r\nbad header\r\n\r\n"));
    EXPECT_EQ(c.read_response().status, 400);
  }
  {  // Half a request, then silence: the header timeout.
    tls_client c;
    ASSERT_TRUE(c.connect(port_)) << c.error();
    ASSERT_TRUE(c.write("GET / HTTP/1.1\r\nHo"));
    EXPECT_TRUE(c.wait_closed());
  }
  {  // Not TLS at all: a handshake error.
    const int fd = raw_connect();
    const char junk[] = "\x16\x03\x01\x00\x04junkjunkjunk";
    ASSERT_GT(::write(fd, junk, sizeof(junk) - 1), 0);
    char buf[256];
    while (::read(fd, buf, sizeof(buf)) > 0) {
    }
    ::close(fd);
  }
  ASSERT_TRUE(eventually([&] {
    const server_stats s = stats();
    return s.errors.http == 1 && s.errors.timeouts == 1 && s.errors.tls_handshake == 1 &&
           s.connections_open == 0;
  })) << "http "
      << stats().errors.http << " timeouts " << stats().errors.timeouts << " tls_handshake "
      << stats().errors.tls_handshake;
  const server_stats s = stats();
  EXPECT_EQ(s.connections_total, 3u);
  EXPECT_EQ(s.tls_handshakes, 2u);
  EXPECT_EQ(s.requests, 0u);
  EXPECT_TRUE(app_.entries().empty());
}

}  // namespace
}  // namespace ns::test
