// SPDX-License-Identifier: MIT
#include "http/request_parser.hpp"

#include <gtest/gtest.h>

#include <string>

#include "feed_split.hpp"

namespace ns::http {
namespace {

using test::event;
using test::expect_split_invariant;
using test::merge_chunks;
using test::run;
using test::whole;

TEST(HttpRequestParser, SimpleGet) {
  request_parser p({});
  const std::string_view in = "GET /a?b=1 HTTP/1.1\r\nHost: x\r\nAccept:  */*  \r\n\r\n";
  auto r = p.feed(in);
  EXPECT_EQ(r.status, parse_status::request_ready);
  EXPECT_EQ(r.consumed, in.size());
  const auto& q = p.request();
  EXPECT_EQ(q.method, "GET");
  EXPECT_EQ(q.target, "/a?b=1");
  EXPECT_EQ(q.path(), "/a");
  EXPECT_EQ(q.version_minor, 1);
  ASSERT_EQ(q.headers.size(), 2u);
  EXPECT_EQ(q.header("HOST"), "x");
  EXPECT_EQ(q.header("accept"), "*/*");
  EXPECT_TRUE(q.keep_alive);
  EXPECT_FALSE(q.upgrade);
  EXPECT_TRUE(q.body.empty());
  EXPECT_TRUE(p.is_supported_method());
  EXPECT_EQ(p.feed(std::string_view{}).status, parse_status::need_more);
}

TEST(HttpRequestParser, SplitAtEveryByte) {
  expect_split_invariant("GET /index.html HTTP/1.1\r\nHost: example\r\nX-A: 1\r\n\r\n");
  expect_split_invariant("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello");
  expect_split_invariant(
      "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n5;ext=1\r\ndefgh\r\n0\r\nTrailer: x\r\n\r\n");
}

TEST(HttpRequestParser, ChunkedBodyIsBuffered) {
  auto ev = whole(
      "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].status, parse_status::request_ready);
  EXPECT_EQ(ev[0].body, "abc0123456789");
}

TEST(HttpRequestParser, PipelinedRequestsOneAtATime) {
  const std::string a = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string b = "POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz";
  const std::string c = "GET /3 HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string all = a + b + c;
  request_parser p({});
  std::string_view in = all;
  auto r = p.feed(in);
  ASSERT_EQ(r.status, parse_status::request_ready);
  EXPECT_EQ(r.consumed, a.size());
  EXPECT_EQ(p.request().target, "/1");
  in.remove_prefix(r.consumed);
  r = p.feed(in);
  ASSERT_EQ(r.status, parse_status::request_ready);
  EXPECT_EQ(r.consumed, b.size());
  EXPECT_EQ(p.request().target, "/2");
  EXPECT_EQ(p.request().body, "xyz");
  in.remove_prefix(r.consumed);
  r = p.feed(in);
  ASSERT_EQ(r.status, parse_status::request_ready);
  EXPECT_EQ(r.consumed, c.size());
  EXPECT_EQ(p.request().target, "/3");
  expect_split_invariant(all);
}

TEST(HttpRequestParser, HostForms) {
  for (std::string_view host : {"example.com", "example.com:8443", "[::1]:443", "10.0.0.1", ""}) {
    request_parser p({});
    const std::string in = "GET / HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n";
    EXPECT_EQ(p.feed(std::string_view(in)).status, parse_status::request_ready) << host;
    EXPECT_EQ(p.request().header("host"), host);
  }
}

TEST(HttpRequestParser, KeepAliveRules) {
  auto ka = [](std::string_view in) {
    request_parser p({});
    auto r = p.feed(in);
    EXPECT_EQ(r.status, parse_status::request_ready) << in;
    return p.request().keep_alive;
  };
  EXPECT_TRUE(ka("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
  EXPECT_FALSE(ka("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"));
  EXPECT_FALSE(ka("GET / HTTP/1.0\r\n\r\n"));
  EXPECT_TRUE(ka("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
}

TEST(HttpRequestParser, ExpectContinue) {
  request_parser p({});
  std::string_view in =
      "PUT /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";
  auto r = p.feed(in);
  EXPECT_EQ(r.status, parse_status::expect_continue);
  EXPECT_TRUE(p.expects_continue());
  EXPECT_EQ(r.consumed, in.size());
  EXPECT_EQ(p.feed(std::string_view{}).status, parse_status::need_more);
  r = p.feed(std::string_view("data"));
  EXPECT_EQ(r.status, parse_status::request_ready);
  EXPECT_EQ(p.request().body, "data");
  // Without a body there is nothing to continue.
  request_parser q({});
  EXPECT_EQ(
      q.feed(std::string_view("GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n")).status,
      parse_status::request_ready);
  EXPECT_FALSE(q.expects_continue());
}

TEST(HttpRequestParser, LargeBodyStreamsWithBackPressure) {
  ns::http_limits lim;
  lim.max_buffered_body = 8;
  const std::string body(100, 'z');
  const std::string in =
      "POST /big HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n" + body + "GET";
  request_parser p(lim);
  std::string_view rest = in;
  auto r = p.feed(rest);
  ASSERT_EQ(r.status, parse_status::headers_ready_streaming);
  EXPECT_EQ(p.request().target, "/big");
  EXPECT_EQ(p.content_length(), 100u);
  rest.remove_prefix(r.consumed);
  std::string got;
  // Deliver the body 7 bytes at a time; each body_chunk must be consumed before the next.
  for (;;) {
    std::string_view piece = rest.substr(0, 7);
    r = p.feed(piece);
    rest.remove_prefix(r.consumed);
    if (r.status == parse_status::body_chunk) {
      EXPECT_LE(r.body.size(), 7u);
      got += r.body;
    } else if (r.status == parse_status::body_done) {
      break;
    } else {
      ASSERT_EQ(r.status, parse_status::need_more);
    }
  }
  EXPECT_EQ(got, body);
  EXPECT_EQ(rest, "GET");
  expect_split_invariant(in.substr(0, in.size() - 3), lim);
}

TEST(HttpRequestParser, LargeChunkedBodySwitchesToStreaming) {
  ns::http_limits lim;
  lim.max_buffered_body = 6;
  const std::string in =
      "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4\r\nabcd\r\n4\r\nefgh\r\n3\r\nijk\r\n0\r\n\r\n";
  auto ev = whole(in, lim);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].status, parse_status::headers_ready_streaming);
  EXPECT_EQ(ev[1].status, parse_status::body_chunk);
  EXPECT_EQ(ev[1].body, "abcdefghijk");
  EXPECT_EQ(ev[2].status, parse_status::body_done);
  expect_split_invariant(in, lim);
}

TEST(HttpRequestParser, Upgrade) {
  const std::string in =
      "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05";
  request_parser p({});
  auto r = p.feed(in);
  ASSERT_EQ(r.status, parse_status::upgrade);
  EXPECT_EQ(r.consumed, in.size() - 2);
  EXPECT_TRUE(p.request().upgrade);
  EXPECT_EQ(p.request().header("upgrade"), "websocket");
  EXPECT_EQ(p.feed(std::string_view("x")).status, parse_status::error);
  EXPECT_EQ(p.error(), error::after_upgrade);
  p.reset();
  EXPECT_EQ(p.feed(std::string_view("GET / HTTP/1.1\r\nHost: h\r\n\r\n")).status,
            parse_status::request_ready);
}

TEST(HttpRequestParser, ConnectIsUpgrade) {
  request_parser p({});
  auto r = p.feed(std::string_view("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n"));
  EXPECT_EQ(r.status, parse_status::upgrade);
  EXPECT_FALSE(p.is_supported_method());
}

TEST(HttpRequestParser, OtherMethodsParseButAreUnsupported) {
  request_parser p({});
  ASSERT_EQ(p.feed(std::string_view("PROPFIND / HTTP/1.1\r\nHost: h\r\n\r\n")).status,
            parse_status::request_ready);
  EXPECT_EQ(p.request().method, "PROPFIND");
  EXPECT_FALSE(p.is_supported_method());
}

struct limit_case {
  const char* name;
  std::string input;
  int status;
};

TEST(HttpRequestParser, LimitsMapToStatus) {
  ns::http_limits lim;
  lim.max_request_line = 64;
  lim.max_header_bytes = 128;
  lim.max_header_count = 4;
  lim.max_body_bytes = 32;
  lim.max_buffered_body = 16;
  const std::vector<limit_case> cases = {
      {"long url", "GET /" + std::string(100, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n", 414},
      {"header bytes", "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(200, 'v') + "\r\n\r\n",
       431},
      {"header count", "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\n\r\n", 431},
      {"body cl", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 33\r\n\r\n", 413},
      {"body chunked",
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n" +
           std::string(32, 'x') + "\r\n1\r\ny\r\n0\r\n\r\n",
       413},
      {"unknown method", "FOO / HTTP/1.1\r\nHost: h\r\n\r\n", 501},
      {"missing host", "GET / HTTP/1.1\r\n\r\n", 400},
      {"two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
      {"http/0.9", "GET /\r\n\r\n", 400},
      {"http/2", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},
      {"garbage", "\x01\x02\x03 junk\r\n\r\n", 400},
      {"space in url", "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400},
  };
  for (const auto& c : cases) test::expect_refused(c.name, c.input, c.status, lim);
}

// Each limit allows exactly its value: one byte less than the refusal cases above.
TEST(HttpRequestParser, LimitsAllowTheirValueExactly) {
  ns::http_limits lim;
  lim.max_header_bytes = 128;
  lim.max_buffered_body = 16;
  // Header field lines are counted as sent, ": " and CRLF included: 9 + 119 = 128 bytes.
  const std::string at = "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(114, 'v') + "\r\n\r\n";
  auto ev = whole(at, lim);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].status, parse_status::request_ready);
  ev = whole("GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(115, 'v') + "\r\n\r\n", lim);
  EXPECT_EQ(status_code(ev.back().err), 431);
  // A body of exactly max_buffered_body arrives whole; one byte more streams.
  const std::string body(16, 'b');
  ev = whole("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 16\r\n\r\n" + body, lim);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].status, parse_status::request_ready);
  EXPECT_EQ(ev[0].body, body);
  ev = whole("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 17\r\n\r\n" + body + "b", lim);
  EXPECT_EQ(ev[0].status, parse_status::headers_ready_streaming);
  // The same for a chunked body: 16 bytes in two chunks stay buffered.
  const std::string chunked = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  ev = whole(chunked + "8\r\nbbbbbbbb\r\n8\r\nbbbbbbbb\r\n0\r\n\r\n", lim);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].status, parse_status::request_ready);
  EXPECT_EQ(ev[0].body, body);
  ev = whole(chunked + "8\r\nbbbbbbbb\r\n9\r\nbbbbbbbbb\r\n0\r\n\r\n", lim);
  EXPECT_EQ(ev[0].status, parse_status::headers_ready_streaming);
}

TEST(HttpRequestParser, ErrorIsSticky) {
  request_parser p({});
  EXPECT_EQ(p.feed(std::string_view("GET / HTTP/1.1\r\n\r\n")).status, parse_status::error);
  EXPECT_EQ(p.status_code(), 400);
  EXPECT_EQ(p.feed(std::string_view("GET / HTTP/1.1\r\nHost: h\r\n\r\n")).status,
            parse_status::error);
  p.reset();
  EXPECT_EQ(p.error(), error::none);
  EXPECT_EQ(p.feed(std::string_view("GET / HTTP/1.1\r\nHost: h\r\n\r\n")).status,
            parse_status::request_ready);
}

TEST(HttpRequestParser, ReusesStorageAcrossRequests) {
  request_parser p({});
  const std::string_view in = "GET /x HTTP/1.1\r\nHost: h\r\nA: b\r\n\r\n";
  ASSERT_EQ(p.feed(in).status, parse_status::request_ready);
  const void* headers_storage = p.request().headers.data();
  const char* target_storage = p.request().target.data();
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(p.feed(in).status, parse_status::request_ready);
    EXPECT_EQ(p.request().headers.data(), headers_storage);
    EXPECT_EQ(p.request().target.data(), target_storage);
  }
}

TEST(HttpRequestParser, HeadsBeyondTheFirstReservationGrowIntact) {
  // A long target and 99 fields, ~16 KiB of fields in all: the buffers start small and
  // grow while the head arrives in pieces; every view must still read what was sent.
  const ns::http_limits lim;
  std::string in = "GET /" + std::string(6000, 't') + " HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 98; ++i) {
    in += "X-" + std::to_string(i) + ": " + std::string(150, static_cast<char>('a' + i % 26)) +
          "\r\n";
  }
  in += "\r\n";
  ASSERT_LT(in.size(), lim.max_request_line + lim.max_header_bytes);
  request_parser p(lim);
  std::string_view rest = in;
  parse_result r{};
  while (!rest.empty()) {
    r = p.feed(rest.substr(0, std::min<std::size_t>(rest.size(), 1000)));
    rest.remove_prefix(r.consumed);
    if (r.status != parse_status::need_more) break;
  }
  ASSERT_EQ(r.status, parse_status::request_ready);
  const auto& q = p.request();
  EXPECT_EQ(q.target, "/" + std::string(6000, 't'));
  ASSERT_EQ(q.headers.size(), 99u);
  EXPECT_EQ(q.header("host"), "h");
  for (int i = 0; i < 98; ++i) {
    EXPECT_EQ(q.header("x-" + std::to_string(i)), std::string(150, static_cast<char>('a' + i % 26)))
        << i;
  }
  // One more header is over max_header_count (100): refused, as before the reservation shrank.
  std::string over = in.substr(0, in.size() - 2) + "Y: 1\r\nZ: 2\r\n\r\n";
  request_parser strict(lim);
  EXPECT_EQ(status_code(merge_chunks(run(strict, {over})).back().err), 431);
}

}  // namespace
}  // namespace ns::http
