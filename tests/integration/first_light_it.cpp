// SPDX-License-Identifier: MIT
// ns_serve end to end: io_uring → TLS → HTTP → file bytes → TLS → io_uring, checked with an
// in-process OpenSSL client and with curl.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <thread>

#include "support/process.hpp"
#include "support/site_fixture.hpp"
#include "support/tls_client.hpp"
#include "tls/self_signed.hpp"

namespace ns::test {
namespace {

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

class FirstLight : public ns_serve_site {
 protected:
  void SetUp() override {
    index_ = "<!doctype html><title>hello</title>\n";
    blob_ = random_bytes(300 * 1024 + 17, 7);
    make_site(index_);
    dir_.write("www/data/blob.bin", blob_);
    server_ = start_ns_serve(
        {"--root", root_, "--cert", cert_, "--key", key_, "--threads", "1", "--log-level", "warn"});
    ASSERT_NE(server_.port, 0) << server_.process->stderr_text();
  }
  void TearDown() override {
    if (server_.process) {
      EXPECT_EQ(server_.process->stop(SIGTERM, std::chrono::seconds(10)), 0)
          << server_.process->stderr_text();
    }
  }

  std::string index_, blob_;
  served server_;
};

TEST_F(FirstLight, GetReturnsExactBytesOverTls13) {
  tls_client::options opt;
  opt.min_version = opt.max_version = TLS1_3_VERSION;
  tls_client c;
  ASSERT_TRUE(c.connect(server_.port, opt)) << c.error();
  EXPECT_EQ(c.version(), "TLSv1.3");
  ASSERT_TRUE(c.write("GET /data/blob.bin HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  http_response r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), blob_.size());
  EXPECT_TRUE(r.body == blob_);
  // Keep-alive: a second request on the same connection.
  ASSERT_TRUE(c.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, index_);
  EXPECT_EQ(r.headers["content-type"].rfind("text/html", 0), 0u);
}

TEST_F(FirstLight, GetReturnsExactBytesOverTls12) {
  tls_client::options opt;
  opt.max_version = TLS1_2_VERSION;
  tls_client c;
  ASSERT_TRUE(c.connect(server_.port, opt)) << c.error();
  EXPECT_EQ(c.version(), "TLSv1.2");
  ASSERT_TRUE(c.write("GET /data/blob.bin HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  const http_response r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body == blob_);
}

TEST_F(FirstLight, CurlFetchesThePage) {
  const std::string out_file = dir_.path() + "/curl.out";
  const std::string cmd = "curl --silent --show-error --insecure --max-time 10 -o " + out_file +
                          " -w '%{http_code}' https://127.0.0.1:" + std::to_string(server_.port) +
                          "/data/blob.bin";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char code[16] = {};
  ASSERT_NE(fgets(code, sizeof(code), p), nullptr);
  EXPECT_EQ(pclose(p), 0);
  EXPECT_STREQ(code, "200");
  std::FILE* f = std::fopen(out_file.c_str(), "rb");
  ASSERT_NE(f, nullptr);
  std::string got(blob_.size() + 10, '\0');
  got.resize(std::fread(got.data(), 1, got.size(), f));
  std::fclose(f);
  EXPECT_TRUE(got == blob_);
}

TEST_F(FirstLight, MissingFileIs404AndTraversalNeverEscapes) {
  EXPECT_EQ(https_get(server_.port, "/nope.html").status, 404);
  const http_response r = https_get(server_.port, "/../server.key");
  EXPECT_NE(r.status, 200);
  EXPECT_EQ(r.body.find("PRIVATE KEY"), std::string::npos);
}

TEST_F(FirstLight, ThousandSequentialConnectionsLeaveFdCountUnchanged) {
  // Warm up once so lazily opened descriptors (none expected) are counted in the baseline.
  ASSERT_EQ(https_get(server_.port, "/").status, 200);
  const int before = settled_fd_count(server_.process->pid());
  ASSERT_GT(before, 0);
  for (int i = 0; i < 1000; ++i) {
    tls_client c;
    ASSERT_TRUE(c.connect(server_.port)) << i << ": " << c.error();
    ASSERT_TRUE(c.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    ASSERT_EQ(c.read_response().status, 200) << i;
  }
  // Closes are asynchronous: give the server a moment to reap the last ones.
  EXPECT_EQ(wait_fd_count_at_most(server_.process->pid(), before, std::chrono::seconds(2)), before);
}

TEST_F(FirstLight, GarbageHandshakeDoesNotDisturbAGoodClient) {
  tls_client good;
  ASSERT_TRUE(good.connect(server_.port)) << good.error();
  const int bad = tcp_connect(server_.port);
  ASSERT_GE(bad, 0);
  const std::string garbage = random_bytes(4096, 99);
  ASSERT_EQ(::write(bad, garbage.data(), garbage.size()), static_cast<ssize_t>(garbage.size()));
  // The server closes the garbage connection...
  char buf[512];
  timeval tv{5, 0};
  setsockopt(bad, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ssize_t n = 0;
  while ((n = ::read(bad, buf, sizeof(buf))) > 0) {
  }
  EXPECT_TRUE(n == 0 || (n < 0 && errno == ECONNRESET)) << "errno " << errno;
  ::close(bad);
  // ...and the good one is served as if nothing happened.
  ASSERT_TRUE(good.write("GET /data/blob.bin HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  const http_response r = good.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body == blob_);
}

TEST_F(FirstLight, ClientClosingMidHandshakeLeavesNoFd) {
  ASSERT_EQ(https_get(server_.port, "/").status, 200);
  const int before = settled_fd_count(server_.process->pid());
  for (int i = 0; i < 50; ++i) {
    const int fd = tcp_connect(server_.port);
    ASSERT_GE(fd, 0);
    // The first 5 bytes of a TLS record header, then gone.
    const unsigned char partial[] = {0x16, 0x03, 0x01, 0x02, 0x00};
    ASSERT_EQ(::write(fd, partial, sizeof(partial)), 5);
    ::close(fd);
  }
  EXPECT_EQ(wait_fd_count_at_most(server_.process->pid(), before, std::chrono::seconds(3)), before);
  EXPECT_EQ(https_get(server_.port, "/").status, 200);
}

TEST_F(FirstLight, MalformedRequestGets400AndClose) {
  tls_client c;
  ASSERT_TRUE(c.connect(server_.port)) << c.error();
  ASSERT_TRUE(c.write("GET / HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n"));
  const http_response r = c.read_response();
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(c.wait_closed());
  EXPECT_EQ(https_get(server_.port, "/").status, 200);
}

TEST_F(FirstLight, PlainHttpOnTheTlsPortIsClosed) {
  const int fd = tcp_connect(server_.port);
  ASSERT_GE(fd, 0);
  const std::string req = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
  ASSERT_EQ(::write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string got;
  char buf[512];
  ssize_t n = 0;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) got.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  EXPECT_TRUE(n == 0 || errno == ECONNRESET);
  EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << got;
}

}  // namespace
}  // namespace ns::test
