// SPDX-License-Identifier: MIT
// A request line whose method llhttp does not know: 501 when the line is well-formed HTTP
// (RFC 9110 §15.6.2), 400 when it is not an HTTP request line at all (RFC 9112 §3) — the
// version is malformed before the method is unknown. Through the parser, split at every offset.
#include "http/request_line_check.hpp"

#include <gtest/gtest.h>

#include <string>

#include "feed_split.hpp"
#include "http/request_parser.hpp"

namespace ns::http {
namespace {

using test::expect_split_invariant;
using test::whole;

struct line_case {
  const char* name;
  std::string input;
  int status;
};

TEST(HttpRequestLineCheck, UnknownMethodIs501OnlyInAWellFormedLine) {
  const std::vector<line_case> cases = {
      {"not http", "THIS IS NOT HTTP AT ALL\r\n\r\n", 400},
      {"unknown token", "FOO / HTTP/1.1\r\nHost: h\r\n\r\n", 501},
      {"after a known prefix", "GEX / HTTP/1.1\r\nHost: h\r\n\r\n", 501},
      {"lower case", "get / HTTP/1.1\r\nHost: h\r\n\r\n", 501},
      {"leading CRLF", "\r\nFOO /x HTTP/1.0\r\n\r\n", 501},
      {"line only", "FOO * HTTP/9.9\r\n", 501},
      {"no method", " / HTTP/1.1\r\n\r\n", 400},
      {"two spaces", "FOO  / HTTP/1.1\r\n\r\n", 400},
      {"tab", "FOO\t/ HTTP/1.1\r\n\r\n", 400},
      {"no target", "FOO HTTP/1.1\r\n\r\n", 400},
      {"control in target", "FOO /\x7f HTTP/1.1\r\n\r\n", 400},
      {"lower-case version", "FOO / http/1.1\r\n\r\n", 400},
      {"two-digit version", "FOO / HTTP/11.1\r\n\r\n", 400},
      {"space before CRLF", "FOO / HTTP/1.1 \r\n\r\n", 400},
      {"bare LF", "FOO / HTTP/1.1\nHost: h\n\n", 400},
      {"a response", "HTTP/1.1 200 OK\r\n\r\n", 400},
      {"garbage", "\x01\x02\x03 junk\r\n\r\n", 400},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(whole(c.input).size(), 1u) << c.name;  // the refusal is the only event
    test::expect_refused(c.name, c.input, c.status);
  }
}

TEST(HttpRequestLineCheck, WaitsForTheRestOfTheLine) {
  request_parser p({});
  // Refused by llhttp at 'O', decided only by what follows.
  for (std::string_view piece : {"FOO / HT", "TP/1.", "1"}) {
    const auto r = p.feed(piece);
    EXPECT_EQ(r.status, parse_status::need_more) << piece;
    EXPECT_EQ(r.consumed, piece.size()) << piece;
  }
  EXPECT_EQ(p.feed(std::string_view("\r\n")).status, parse_status::error);
  EXPECT_EQ(p.status_code(), 501);
  // The decision is sticky, like every error.
  EXPECT_EQ(p.feed(std::string_view("GET / HTTP/1.1\r\n")).status, parse_status::error);
  // A malformed byte decides at once, without waiting for the end of the line.
  request_parser q({});
  EXPECT_EQ(q.feed(std::string_view("THIS IS N")).status, parse_status::error);
  EXPECT_EQ(q.error(), error::malformed_request_line);
}

TEST(HttpRequestLineCheck, HoldsNoStorageToFreeMidLine) {
  request_parser p({});
  ASSERT_EQ(p.feed(std::string_view("FOO /")).status, parse_status::need_more);
  EXPECT_FALSE(p.release_storage());  // a request has begun
}

// The limit counts the line as llhttp does (no separators, no CRLF) and allows its value.
TEST(HttpRequestLineCheck, LineLimitAllowsItsValueExactly) {
  ns::http_limits lim;
  lim.max_request_line = 20;
  // FOO + /aaaaaaaaa + HTTP/1.1 = 3 + 9 + 8 = 20 bytes.
  const std::string at = "FOO /" + std::string(8, 'a') + " HTTP/1.1\r\n\r\n";
  auto ev = whole(at, lim);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(status_code(ev[0].err), 501);
  ev = whole("FOO /" + std::string(9, 'a') + " HTTP/1.1\r\n\r\n", lim);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(status_code(ev[0].err), 414);
  expect_split_invariant(at, lim);
  // A method llhttp half-matched before refusing counts too (GE + X).
  ev = whole("GEX /" + std::string(9, 'a') + " HTTP/1.1\r\n\r\n", lim);
  EXPECT_EQ(status_code(ev.back().err), 414);
  expect_split_invariant("GEX /" + std::string(9, 'a') + " HTTP/1.1\r\n\r\n", lim);
}

TEST(HttpRequestLineCheck, ReportsWhereItDecided) {
  std::size_t n = 0;
  request_line_check c(0, 100);
  const std::string_view in = "XY Z\x01rest";
  EXPECT_EQ(c.feed(std::as_bytes(std::span(in.data(), in.size())), n),
            request_line_check::verdict::malformed);
  EXPECT_EQ(n, 5u);  // up to and including the control byte
  request_line_check d(2, 100);
  const std::string_view ok = " / HTTP/1.0\r\nmore";
  EXPECT_EQ(d.feed(std::as_bytes(std::span(ok.data(), ok.size())), n),
            request_line_check::verdict::unknown_method);
  EXPECT_EQ(n, ok.size() - 4);
}

}  // namespace
}  // namespace ns::http
