// SPDX-License-Identifier: MIT
// The HTTP application API over real TLS connections, with a network_server on a thread of the
// test: http_send_file's callback contract and cache counters, streamed request bodies with
// back-pressure (http_post_read), 100-continue, chunked request bodies, a multipart/form-data
// upload parsed with http::multipart_parser, chunked responses, and every limit status.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <network_server/network_server.hpp>

#include "http/multipart.hpp"
#include "http_it_util.hpp"
#include "support/process.hpp"
#include "support/tls_client.hpp"
#include "tls/self_signed.hpp"

namespace ns::test {
namespace {

std::string text(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

std::string pattern(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

std::uint64_t fnv(std::string_view s, std::uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

struct part_seen {
  std::string name, filename, content_type, data;
};

// Per-connection state of a streamed upload.
struct upload {
  std::string target;
  std::uint64_t bytes = 0;
  std::uint64_t hash = 1469598103934665603ull;
  int pieces = 0;
  bool failed = false;
  std::unique_ptr<http::multipart_parser> mp;
  std::vector<part_seen> parts;
  bool mp_done = false;
};

class app : public application_methods {
 public:
  void server_started_callback(network_server& s) override { server = &s; }

  void http_read_callback(const http_request& req, client_num_t c) override {
    const std::string target(req.target);
    {
      std::lock_guard l(m);
      stats = server->http_file_cache_stats();
    }
    if (target.rfind("/file/", 0) == 0) {
      EXPECT_EQ(server->http_send_file(c, req, target.substr(5)), 0);
      // A second response for the same request is refused while the file is in progress.
      if (target == "/file/big.bin") {
        busy_send_rc = server->http_send_file(c, req);
        busy_write_rc = server->http_write(c, std::string_view("x"));
      }
    } else if (target == "/fs") {
      EXPECT_EQ(server->http_send_file(c, req, outside_path, file_source::filesystem), 0);
    } else if (target.rfind("/spa/", 0) == 0) {
      EXPECT_EQ(server->http_send_file(c, req, "/index.html"), 0);
    } else if (target == "/chunked") {
      const http_header h[] = {{"Content-Type", "text/plain"}};
      EXPECT_EQ(server->http_begin_chunked(c, 200, h), 0);
      EXPECT_EQ(server->http_write_chunk(c, std::string_view("hello ")), 0);
      EXPECT_EQ(server->http_write_chunk(c, std::string_view()), 0);  // sends nothing
      EXPECT_EQ(server->http_write_chunk(c, big_chunk), 0);
      EXPECT_EQ(server->http_write_chunk(c, std::string_view("world")), 0);
      EXPECT_EQ(server->http_write(c, std::string_view("x")), -EBUSY);
      EXPECT_EQ(server->http_end_chunked(c), 0);
      // Ended: no more chunks (-EPIPE instead when the connection is closing after it).
      const int late = server->http_write_chunk(c, std::string_view("late"));
      EXPECT_TRUE(late == (req.keep_alive ? -EINVAL : -EPIPE)) << late;
    } else {
      // Small bodies (also chunked ones) arrive whole: echo their size and hash.
      const std::string body =
          "len=" + std::to_string(req.body.size()) + " hash=" + std::to_string(fnv(req.body));
      server->http_write(c, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                                "\r\n\r\n" + body);
    }
  }

  bool http_stream_callback(const http_request& req, client_num_t c) override {
    const std::string target(req.target);
    if (target == "/reject") return false;
    std::lock_guard l(m);
    upload& u = uploads[c];
    u = upload{};
    u.target = target;
    if (target == "/multipart") {
      const std::string_view boundary = http::multipart_boundary(req.header("Content-Type"));
      EXPECT_FALSE(boundary.empty());
      u.mp = std::make_unique<http::multipart_parser>(boundary);
    }
    if (target == "/answer-early") {
      // Answers without reading the body: the connection must close after the response.
      server->http_write(c,
                         std::string_view("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"));
      return true;
    }
    if (target == "/slow") {
      slow_client = c;  // not read until the test releases it (release_slow)
      return true;
    }
    EXPECT_EQ(server->http_post_read(c), 0);
    EXPECT_EQ(server->http_post_read(c), -EBUSY);  // one read at a time
    return true;
  }

  void http_body_callback(client_num_t c, std::span<const std::byte> piece, bool last,
                          bool failed) override {
    std::unique_lock l(m);
    upload& u = uploads[c];
    ++body_callbacks;
    if (failed) {
      u.failed = true;
      ++failed_bodies;
      return;
    }
    if (!last) {
      ++u.pieces;
      u.bytes += piece.size();
      u.hash = fnv(text(piece), u.hash);
      if (u.mp) feed_multipart(u, text(piece));
      l.unlock();
      EXPECT_EQ(server->http_post_read(c), 0);
      return;
    }
    EXPECT_TRUE(piece.empty());
    std::string body = "len=" + std::to_string(u.bytes) + " hash=" + std::to_string(u.hash);
    if (u.mp) body += u.mp_done ? " multipart=done" : " multipart=incomplete";
    l.unlock();
    EXPECT_EQ(server->http_post_read(c), -EINVAL);  // the body is complete
    server->http_write(
        c, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  }

  void http_write_callback(client_num_t, bool failed) override {
    ++writes;
    if (failed) ++failed_writes;
  }
  void http_writev_callback(client_num_t c, bool failed) override {
    std::lock_guard l(m);
    ++writevs[c];
    if (failed) ++failed_writevs[c];
  }
  void http_close_callback(client_num_t c) override {
    std::lock_guard l(m);
    closed.push_back(c);
  }

  // Starts reading the held /slow upload (on the loop thread, through post()).
  void release_slow() { EXPECT_EQ(server->http_post_read(slow_client), 0); }

  static void feed_multipart(upload& u, std::string_view in) {
    while (!in.empty() || !u.mp_done) {
      const http::multipart_result r = u.mp->feed(in);
      in.remove_prefix(r.consumed);
      switch (r.status) {
        case http::multipart_status::part_begin:
          u.parts.push_back({std::string(u.mp->part().name),
                             std::string(u.mp->part().filename),
                             std::string(u.mp->part().content_type),
                             {}});
          break;
        case http::multipart_status::part_data:
          u.parts.back().data.append(r.data);
          break;
        case http::multipart_status::part_end:
          break;
        case http::multipart_status::done:
          u.mp_done = true;
          return;
        case http::multipart_status::need_more:
          return;
        case http::multipart_status::error:
          ADD_FAILURE() << "multipart: " << http::reason(u.mp->error());
          return;
      }
    }
  }

  network_server* server = nullptr;
  std::string outside_path;
  std::string big_chunk = pattern(40000, 9);
  std::mutex m;
  std::map<client_num_t, upload> uploads;
  std::map<client_num_t, int> writevs, failed_writevs;
  std::vector<client_num_t> closed;
  file_cache_stats stats;
  std::atomic<int> writes{0}, failed_writes{0}, body_callbacks{0}, failed_bodies{0};
  std::atomic<int> busy_send_rc{0}, busy_write_rc{0};
  client_num_t slow_client = invalid_client;
};

class HttpBody : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string& d = dir_.path();
    tls::write_pem_files(tls::make_self_signed(), d + "/c.pem", d + "/k.pem");
    small_ = pattern(3000, 1);
    big_ = pattern(2 * 1024 * 1024 + 7, 2);
    dir_.write("www/index.html", "index\n");
    dir_.write("www/small.txt", small_);
    dir_.write("www/big.bin", big_);
    app_.outside_path = dir_.write("outside.txt", "outside the root\n");
    server_config cfg;
    cfg.port = 0;
    cfg.tls.certificates.push_back({d + "/c.pem", d + "/k.pem"});
    cfg.files.document_root = d + "/www";
    cfg.http.max_request_line = 1024;
    cfg.http.max_header_bytes = 2048;
    cfg.http.max_header_count = 20;
    cfg.http.max_body_bytes = 64 * 1024 * 1024;
    cfg.http.max_buffered_body = 16 * 1024;
    // These tests change files and expect the next request to see it: no validity window.
    cfg.files.cache_valid = std::chrono::milliseconds(0);
    configure(cfg);
    server_ = std::make_unique<network_server>(cfg, app_);
    port_ = server_->port();
    loop_ = std::thread([this] { rc_ = server_->start(); });
  }
  void TearDown() override {
    server_->stop();
    loop_.join();
    EXPECT_EQ(rc_, 0);
  }
  virtual void configure(server_config&) {}
  // Waits until @p pred holds (under the app's mutex) or 5 s pass.
  template <class P>
  bool eventually(P pred) {
    for (int i = 0; i < 500; ++i) {
      {
        std::lock_guard l(app_.m);
        if (pred()) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  static bool readable_within(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, ms) > 0;
  }

  temp_dir dir_;
  app app_;
  std::string small_, big_;
  std::unique_ptr<network_server> server_;
  std::thread loop_;
  std::uint16_t port_ = 0;
  int rc_ = -1;
};

TEST_F(HttpBody, SendFileCallsBackOnceAndCachesSmallFiles) {
  tls_client c;
  ASSERT_TRUE(c.connect(port_));
  ASSERT_TRUE(
      c.write("GET /file/small.txt HTTP/1.1\r\nHost: x\r\n\r\n"
              "GET /file/small.txt HTTP/1.1\r\nHost: x\r\n\r\n"
              "GET /file/big.bin HTTP/1.1\r\nHost: x\r\n\r\n"
              "GET /file/nope HTTP/1.1\r\nHost: x\r\n\r\n"
              "GET /fs HTTP/1.1\r\nHost: x\r\n\r\n"
              "GET /spa/deep/link HTTP/1.1\r\nHost: x\r\n\r\n"
              "GET /file/small.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(c.read_response().body, small_);
  EXPECT_EQ(c.read_response().body, small_);
  EXPECT_EQ(c.read_response().body, big_);
  EXPECT_EQ(c.read_response().status, 404);
  EXPECT_EQ(c.read_response().body, "outside the root\n");
  EXPECT_EQ(c.read_response().body, "index\n");
  EXPECT_EQ(c.read_response().body, small_);
  EXPECT_TRUE(c.wait_closed());
  ASSERT_TRUE(eventually([&] { return app_.closed.size() == 1; }));
  std::lock_guard l(app_.m);
  EXPECT_EQ(app_.writevs[app_.closed[0]], 7);  // one per http_send_file
  EXPECT_EQ(app_.failed_writevs[app_.closed[0]], 0);
  EXPECT_EQ(app_.busy_send_rc.load(), -EBUSY);
  EXPECT_EQ(app_.busy_write_rc.load(), -EBUSY);
  // Counters as seen when the last request arrived: small.txt missed, then hit once; big.bin,
  // outside.txt and index.html missed once each.
  EXPECT_EQ(app_.stats.hits, 1u);
  EXPECT_EQ(app_.stats.misses, 4u);
  EXPECT_EQ(app_.stats.entries, 4u);
  EXPECT_GT(app_.stats.bytes, small_.size());
}

TEST_F(HttpBody, CacheServesTheNewVersionOfAChangedFile) {
  tls_client c;
  ASSERT_TRUE(c.connect(port_));
  ASSERT_TRUE(c.write("GET /file/small.txt HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.read_response().body, small_);
  ASSERT_TRUE(c.write("GET /file/small.txt HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.read_response().body, small_);
  dir_.write("www/small.txt", "changed\n");
  ASSERT_TRUE(c.write("GET /file/small.txt HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.read_response().body, "changed\n");
  ASSERT_TRUE(c.write("GET /file/small.txt HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.read_response().body, "changed\n");
  std::lock_guard l(app_.m);
  EXPECT_EQ(app_.stats.hits, 1u);  // counters before the last request: miss, hit, stale …
  EXPECT_EQ(app_.stats.invalidations, 1u);
  EXPECT_EQ(app_.stats.entries, 1u);
}

// files.cache_valid: within the window a cached file is served without looking at the file
// system (a change is not seen yet); after it, the next request stats again and gets the new
// version.
class HttpBodyCacheWindow : public HttpBody {
 protected:
  static constexpr auto window = std::chrono::milliseconds(3000);
  void configure(server_config& cfg) override { cfg.files.cache_valid = window; }
  // GET /file/small.txt on @p c.
  static http_response get_small(tls_client& c) {
    EXPECT_TRUE(c.write("GET /file/small.txt HTTP/1.1\r\nHost: x\r\n\r\n"));
    return c.read_response();
  }
  // The first request: the server's stat of the file happens between `sent` and `answered`.
  std::chrono::steady_clock::time_point sent, answered;
  void first_request(tls_client& c) {
    sent = std::chrono::steady_clock::now();
    EXPECT_EQ(get_small(c).body, small_);
    answered = std::chrono::steady_clock::now();
  }
  void sleep_past_the_window() const {
    std::this_thread::sleep_until(answered + window + std::chrono::milliseconds(100));
  }
};

TEST_F(HttpBodyCacheWindow, ChangedFileIsServedFreshOnlyAfterTheWindow) {
  tls_client c;
  ASSERT_TRUE(c.connect(port_));
  first_request(c);
  dir_.write("www/small.txt", "changed\n");
  const std::string within = get_small(c).body;
  // On a machine too loaded to make the second request within the window, it is simply fresh.
  if (std::chrono::steady_clock::now() - sent < window - std::chrono::milliseconds(500)) {
    EXPECT_EQ(within, small_);  // served from the cache, no stat
  }
  sleep_past_the_window();
  EXPECT_EQ(get_small(c).body, "changed\n");
  EXPECT_EQ(get_small(c).body, "changed\n");
  std::lock_guard l(app_.m);
  EXPECT_EQ(app_.stats.invalidations, 1u);  // counters before the last request
  EXPECT_EQ(app_.stats.entries, 1u);
}

TEST_F(HttpBodyCacheWindow, RemovedFileIsNotFoundAfterTheWindow) {
  tls_client c;
  ASSERT_TRUE(c.connect(port_));
  first_request(c);
  std::filesystem::remove(dir_.path() + "/www/small.txt");
  sleep_past_the_window();
  EXPECT_EQ(get_small(c).status, 404);
}

TEST_F(HttpBody, SendFileReportsFailureOnceWhenTheClientLeaves) {
  // Larger than the server's largest possible send buffer (tcp_wmem max, 4 MiB here) plus what
  // a client that read one record can have taken: the transfer cannot complete before the
  // client leaves, however slowly the test runs (big.bin's 2 MiB once fit and passed as sent).
  dir_.write("www/huge.bin", pattern(24 * 1024 * 1024, 5));
  {
    tls_client c;
    ASSERT_TRUE(c.connect(port_));
    ASSERT_TRUE(c.write("GET /file/huge.bin HTTP/1.1\r\nHost: x\r\n\r\n"));
    char buf[100];
    ASSERT_GT(SSL_read(c.ssl(), buf, sizeof(buf)), 0);  // the response has started
    ::shutdown(c.fd(), SHUT_RDWR);                      // then the client is gone
  }
  ASSERT_TRUE(eventually([&] { return app_.closed.size() == 1; }));
  std::lock_guard l(app_.m);
  const client_num_t c = app_.closed[0];
  EXPECT_EQ(app_.writevs[c], 1);         // exactly once …
  EXPECT_EQ(app_.failed_writevs[c], 1);  // … and as a failure
}

TEST_F(HttpBody, SmallBodiesArriveWholeAlsoChunked) {
  tls_client c;
  ASSERT_TRUE(c.connect(port_));
  const std::string body = pattern(10000, 3);
  ASSERT_TRUE(c.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n" + body));
  EXPECT_EQ(c.read_response().body, "len=10000 hash=" + std::to_string(fnv(body)));
  ASSERT_TRUE(
      c.write("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
              "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  EXPECT_EQ(c.read_response().body, "len=11 hash=" + std::to_string(fnv("hello world")));
}

TEST_F(HttpBody, LargeBodiesStreamPieceByPiece) {
  tls_client c;
  ASSERT_TRUE(c.connect(port_));
  const std::string body = pattern(5 * 1024 * 1024 + 3, 4);
  ASSERT_TRUE(
      c.write("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
              "\r\n\r\n" + body + "GET /file/small.txt HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.read_response().body,
            "len=" + std::to_string(body.size()) + " hash=" + std::to_string(fnv(body)));
  EXPECT_EQ(c.read_response().body, small_);  // the pipelined request after the body
  // Chunked and large: the buffered start is handed over as the first piece.
  std::string chunked;
  std::string plain;
  for (int i = 0; i < 40; ++i) {
    const std::string piece = pattern(1000 + i * 37, 100 + i);
    plain += piece;
    char size[16];
    std::snprintf(size, sizeof(size), "%zx\r\n", piece.size());
    chunked += size + piece + "\r\n";
  }
  chunked += "0\r\n\r\n";
  ASSERT_TRUE(
      c.write("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked));
  EXPECT_EQ(c.read_response().body,
            "len=" + std::to_string(plain.size()) + " hash=" + std::to_string(fnv(plain)));
}

TEST_F(HttpBody, BackPressureStopsTheClientUntilTheAppReads) {
  tls_client c;
  ASSERT_TRUE(c.connect(port_));
  const std::size_t total = 48u * 1024 * 1024;
  ASSERT_TRUE(c.write("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(total) +
                      "\r\n\r\n"));
  ASSERT_TRUE(eventually([&] { return app_.slow_client != invalid_client; }));
  // The application has not asked for the body: write as fast as possible without blocking
  // until the client is stuck.
  ::fcntl(c.fd(), F_SETFL, ::fcntl(c.fd(), F_GETFL) | O_NONBLOCK);
  std::size_t written = 0;
  std::uint64_t hash = 1469598103934665603ull;
  std::string block;
  auto next_block = [&] {
    block =
        pattern(std::min<std::size_t>(16 * 1024, total - written), static_cast<unsigned>(written));
  };
  next_block();
  for (;;) {
    const int w = SSL_write(c.ssl(), block.data(), static_cast<int>(block.size()));
    if (w > 0) {  // a whole block (no partial writes without SSL_MODE_ENABLE_PARTIAL_WRITE)
      hash = fnv(block, hash);
      written += block.size();
      ASSERT_LT(written, total) << "the whole body went in: no back-pressure";
      next_block();
      continue;
    }
    ASSERT_EQ(SSL_get_error(c.ssl(), w), SSL_ERROR_WANT_WRITE);
    pollfd p{c.fd(), POLLOUT, 0};
    if (::poll(&p, 1, 700) == 0) break;  // stuck: the server stopped reading
  }
  {
    std::lock_guard l(app_.m);
    EXPECT_EQ(app_.uploads[app_.slow_client].pieces, 0);  // nothing was delivered unasked
  }
  std::printf("[ info ] client blocked after %zu KiB of a %zu KiB body\n", written / 1024,
              total / 1024);
  EXPECT_LT(written, total / 2);  // socket buffers + the server's bounded hold, not the body
  // Now the application reads: everything arrives, intact and in order.
  ASSERT_EQ(server_->post([this] { app_.release_slow(); }), 0);
  pollfd p{c.fd(), POLLOUT, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  for (;;) {
    const int w = SSL_write(c.ssl(), block.data(), static_cast<int>(block.size()));
    if (w > 0) {
      hash = fnv(block, hash);
      written += block.size();
      if (written == total) break;
      next_block();
      continue;
    }
    ASSERT_EQ(SSL_get_error(c.ssl(), w), SSL_ERROR_WANT_WRITE);
    ASSERT_EQ(::poll(&p, 1, 5000), 1) << "stuck after " << written;
  }
  ::fcntl(c.fd(), F_SETFL, ::fcntl(c.fd(), F_GETFL) & ~O_NONBLOCK);
  auto r = c.read_response();
  EXPECT_EQ(r.body, "len=" + std::to_string(total) + " hash=" + std::to_string(hash));
}

TEST_F(HttpBody, ExpectContinueIsAnsweredBeforeTheBody) {
  tls_client c;
  ASSERT_TRUE(c.connect(port_));
  // Small body: 100 Continue at once, then the request arrives whole.
  ASSERT_TRUE(
      c.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
              "Expect: 100-continue\r\n\r\n"));
  auto interim = c.read_response();
  EXPECT_EQ(interim.status, 100);
  ASSERT_TRUE(c.write("hello"));
  EXPECT_EQ(c.read_response().body, "len=5 hash=" + std::to_string(fnv("hello")));
  // Streamed body: 100 Continue goes out when the application asks for the body.
  const std::string body = pattern(100000, 6);
  ASSERT_TRUE(
      c.write("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
              "Expect: 100-continue\r\n\r\n"));
  EXPECT_EQ(c.read_response().status, 100);
  ASSERT_TRUE(c.write(body));
  EXPECT_EQ(c.read_response().body, "len=100000 hash=" + std::to_string(fnv(body)));
  // Not taken by the application: 413 instead of 100, and the body is never invited.
  ASSERT_TRUE(
      c.write("POST /reject HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
              "Expect: 100-continue\r\n\r\n"));
  EXPECT_EQ(c.read_response().status, 413);
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(HttpBody, AnAnswerBeforeTheBodyClosesTheConnection) {
  tls_client c;
  ASSERT_TRUE(c.connect(port_));
  ASSERT_TRUE(c.write("POST /answer-early HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" +
                      pattern(20000, 7)));
  auto r = c.read_response();
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(HttpBody, MultipartUploadOverTls) {
  const std::string file = pattern(300 * 1024, 8);
  const std::string boundary = "----nsFormBoundary7MA4YWxkTrZu0gW";
  const std::string form = "--" + boundary +
                           "\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n"
                           "holiday photos\r\n--" +
                           boundary +
                           "\r\nContent-Disposition: form-data; name=\"upload\"; "
                           "filename=\"beach.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n" +
                           file + "\r\n--" + boundary + "--\r\n";
  tls_client c;
  ASSERT_TRUE(c.connect(port_));
  ASSERT_TRUE(
      c.write("POST /multipart HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
              "boundary=" +
              boundary + "\r\nContent-Length: " + std::to_string(form.size()) + "\r\n\r\n" + form));
  auto r = c.read_response();
  EXPECT_NE(r.body.find("multipart=done"), std::string::npos) << r.body;
  std::lock_guard l(app_.m);
  ASSERT_EQ(app_.uploads.size(), 1u);
  const upload& u = app_.uploads.begin()->second;
  ASSERT_EQ(u.parts.size(), 2u);
  EXPECT_EQ(u.parts[0].name, "title");
  EXPECT_TRUE(u.parts[0].filename.empty());
  EXPECT_EQ(u.parts[0].data, "holiday photos");
  EXPECT_EQ(u.parts[1].name, "upload");
  EXPECT_EQ(u.parts[1].filename, "beach.jpg");
  EXPECT_EQ(u.parts[1].content_type, "image/jpeg");
  EXPECT_EQ(u.parts[1].data, file);
}

TEST_F(HttpBody, ChunkedResponses) {
  {
    tls_client c;
    ASSERT_TRUE(c.connect(port_));
    ASSERT_TRUE(
        c.write("GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n"
                "GET /file/small.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    const std::string all = c.read_until_close();
    const auto head_end = all.find("\r\n\r\n");
    ASSERT_NE(head_end, std::string::npos);
    const std::string head = all.substr(0, head_end);
    EXPECT_NE(head.find("Transfer-Encoding: chunked"), std::string::npos) << head;
    EXPECT_NE(head.find("Content-Type: text/plain"), std::string::npos);
    bool ok = false;
    std::size_t chunks = 0;
    const std::string body = decode_chunked(all.substr(head_end + 4), ok, &chunks);
    EXPECT_TRUE(ok);
    EXPECT_EQ(body, "hello " + app_.big_chunk + "world");
    EXPECT_EQ(chunks, 3u);  // the empty write sent no chunk (it would end the body)
    // The pipelined request was answered after the last chunk, in order.
    const auto second = all.find("0\r\n\r\nHTTP/1.1 200");
    ASSERT_NE(second, std::string::npos);
    EXPECT_EQ(all.substr(all.size() - small_.size()), small_);
  }
  {
    // HTTP/1.0 has no chunked coding: raw body, delimited by the close.
    tls_client c;
    ASSERT_TRUE(c.connect(port_));
    ASSERT_TRUE(c.write("GET /chunked HTTP/1.0\r\n\r\n"));
    const std::string all = c.read_until_close();
    EXPECT_EQ(all.find("Transfer-Encoding"), std::string::npos);
    EXPECT_EQ(all.substr(all.find("\r\n\r\n") + 4), "hello " + app_.big_chunk + "world");
  }
  {
    tls_client c;
    ASSERT_TRUE(c.connect(port_));
    ASSERT_TRUE(c.write("HEAD /chunked HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    const std::string all = c.read_until_close();
    EXPECT_EQ(all.size(), all.find("\r\n\r\n") + 4);  // no body at all
  }
  // begin + 4 chunk calls + end per request, three requests, none failed.
  EXPECT_TRUE(eventually([&] { return app_.writes.load() >= 18; }));
  EXPECT_EQ(app_.failed_writes.load(), 0);
}

struct limit_case {
  const char* name;
  std::string request;
  int status;
};

TEST_F(HttpBody, EveryLimitIsAnsweredAndCloses) {
  std::string many_headers = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 30; ++i) many_headers += "X-H" + std::to_string(i) + ": v\r\n";
  const std::vector<limit_case> cases = {
      {"414 long target", "GET /" + std::string(2000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
      {"431 header count", many_headers + "\r\n", 431},
      {"431 header bytes",
       "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(3000, 'b') + "\r\n\r\n", 431},
      {"413 content-length",
       "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n", 413},
      {"413 not taken", "POST /reject HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n\r\n", 413},
      {"400 missing host", "GET / HTTP/1.1\r\n\r\n", 400},
      {"400 CL and TE",
       "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
       "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       400},
      {"400 two lengths",
       "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
       "Content-Length: 6\r\n\r\nhello!",
       400},
      {"400 bad chunk",
       "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
       "zz\r\n",
       400},
      {"501 unsupported method", "PROPFIND / HTTP/1.1\r\nHost: x\r\n\r\n", 501},
      {"501 unknown method", "FROB / HTTP/1.1\r\nHost: x\r\n\r\n", 501},
      // The version is malformed before the method is unknown (RFC 9112 §3; nginx: 400).
      {"400 not HTTP at all", "THIS IS NOT HTTP AT ALL\r\n\r\n", 400},
      {"505 version", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505},
  };
  for (const auto& k : cases) {
    tls_client c;
    ASSERT_TRUE(c.connect(port_)) << k.name;
    ASSERT_TRUE(c.write(k.request)) << k.name;
    auto r = c.read_response();
    EXPECT_EQ(r.status, k.status) << k.name;
    EXPECT_TRUE(c.wait_closed()) << k.name;
  }
}

TEST_F(HttpBody, ChunkedBodyOverTheLimitFailsTheReadAndAnswers413) {
  tls_client c;
  ASSERT_TRUE(c.connect(port_));
  // 32 KiB chunks: past max_buffered_body it streams, past max_body_bytes (64 MiB) it fails.
  ASSERT_TRUE(c.write("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const std::string piece = "8000\r\n" + std::string(0x8000, 'z') + "\r\n";
  std::string burst;
  for (int i = 0; i < 64; ++i) burst += piece;  // 2 MiB per write
  bool write_ok = true;
  for (int i = 0; i < 40 && write_ok; ++i) write_ok = c.write(burst);
  auto r = c.read_response();
  EXPECT_EQ(r.status, 413);
  EXPECT_TRUE(c.wait_closed());
  EXPECT_TRUE(eventually([&] { return app_.failed_bodies.load() == 1; }));
}

}  // namespace
}  // namespace ns::test
