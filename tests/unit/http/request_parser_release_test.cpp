// SPDX-License-Identifier: MIT
// The parser holds no storage while its connection is idle: reserved by the first request,
// freed by release_storage() between requests, never while a request is partly received.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "http/request_parser.hpp"

namespace ns::http {
namespace {

constexpr std::string_view get = "GET /a HTTP/1.1\r\nHost: h\r\nX-One: 1\r\n\r\n";

TEST(HttpRequestParserRelease, NoStorageBeforeTheFirstRequest) {
  request_parser p({});
  EXPECT_EQ(p.reserved_bytes(), 0u);
  ASSERT_EQ(p.feed(get).status, parse_status::request_ready);
  // Head storage only: the body buffer waits for a body.
  EXPECT_GT(p.reserved_bytes(), 0u);
  EXPECT_LT(p.reserved_bytes(), ns::http_limits{}.max_buffered_body);
}

TEST(HttpRequestParserRelease, ReleasedBetweenRequestsAndParsesOn) {
  request_parser p({});
  ASSERT_EQ(p.feed("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc").status,
            parse_status::request_ready);
  EXPECT_GE(p.reserved_bytes(), ns::http_limits{}.max_buffered_body);
  EXPECT_TRUE(p.release_storage());
  EXPECT_EQ(p.reserved_bytes(), 0u);
  EXPECT_TRUE(p.request().target.empty());  // no view into freed storage survives
  EXPECT_TRUE(p.request().headers.empty());
  for (int i = 0; i < 3; ++i) {
    const auto r = p.feed(get);
    ASSERT_EQ(r.status, parse_status::request_ready);
    EXPECT_EQ(r.consumed, get.size());
    EXPECT_EQ(p.request().target, "/a");
    EXPECT_EQ(p.request().header("x-one"), "1");
    EXPECT_TRUE(p.release_storage());
  }
}

TEST(HttpRequestParserRelease, KeptWhileAHeadIsPartlyReceived) {
  request_parser p({});
  ASSERT_EQ(p.feed(get).status, parse_status::request_ready);
  ASSERT_EQ(p.feed("GET /partial HTTP/1.1\r\nHo").status, parse_status::need_more);
  const std::size_t held = p.reserved_bytes();
  EXPECT_FALSE(p.release_storage());
  EXPECT_EQ(p.reserved_bytes(), held);
  ASSERT_EQ(p.feed("st: h\r\n\r\n").status, parse_status::request_ready);
  EXPECT_EQ(p.request().target, "/partial");
  EXPECT_EQ(p.request().header("host"), "h");
}

TEST(HttpRequestParserRelease, KeptWhileABodyIsPartlyReceived) {
  request_parser p({});
  ASSERT_EQ(p.feed("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\nab").status,
            parse_status::need_more);
  EXPECT_FALSE(p.release_storage());
  ASSERT_EQ(p.feed("cdef").status, parse_status::request_ready);
  EXPECT_EQ(p.request().body, "abcdef");
}

TEST(HttpRequestParserRelease, PipelinedRestParsesAfterRelease) {
  request_parser p({});
  const std::string two = std::string(get) + "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
  auto r = p.feed(two);
  ASSERT_EQ(r.status, parse_status::request_ready);
  const std::string rest = two.substr(r.consumed);
  EXPECT_TRUE(p.release_storage());
  r = p.feed(rest);
  ASSERT_EQ(r.status, parse_status::request_ready);
  EXPECT_EQ(p.request().target, "/b");
}

TEST(HttpRequestParserRelease, UpgradedStaysUpgraded) {
  request_parser p({});
  ASSERT_EQ(p.feed("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket"
                   "\r\n\r\n")
                .status,
            parse_status::upgrade);
  EXPECT_TRUE(p.release_storage());
  EXPECT_EQ(p.reserved_bytes(), 0u);
  EXPECT_EQ(p.feed(get).status, parse_status::error);
  EXPECT_EQ(p.error(), http::error::after_upgrade);
}

TEST(HttpRequestParserRelease, FailedStaysFailed) {
  request_parser p({});
  ASSERT_EQ(p.feed("GET / HTTP/1.1\nHost: h\r\n\r\n").status, parse_status::error);
  const http::error e = p.error();
  EXPECT_TRUE(p.release_storage());
  EXPECT_EQ(p.feed(get).status, parse_status::error);
  EXPECT_EQ(p.error(), e);
}

}  // namespace
}  // namespace ns::http
