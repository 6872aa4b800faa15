// SPDX-License-Identifier: MIT
// `ns::http_request` helpers the application uses on every request: header lookup is ASCII
// case-insensitive (RFC 9110 §5.1: field names are case-insensitive) and returns the first
// match; path() is the target before '?' (RFC 3986 §3.4), still percent-encoded.
#include <gtest/gtest.h>
#include <network_server/config.hpp>
#include <network_server/http_request.hpp>
#include <network_server/types.hpp>

namespace {

ns::http_request sample() {
  ns::http_request r;
  r.method = "GET";
  r.target = "/a%20b/c.html?x=1&y=?";
  r.headers = {{"Host", "example.com"},
               {"X-Dup", "first"},
               {"x-dup", "second"},
               {"Content-Type", "text/plain"}};
  return r;
}

TEST(HttpRequestLookup, HeaderNamesMatchIgnoringAsciiCase) {
  const auto r = sample();
  EXPECT_EQ(r.header("host"), "example.com");
  EXPECT_EQ(r.header("HOST"), "example.com");
  EXPECT_EQ(r.header("cOnTeNt-TyPe"), "text/plain");
}

TEST(HttpRequestLookup, FirstOfRepeatedFieldsWins) {
  EXPECT_EQ(sample().header("X-DUP"), "first");
}

TEST(HttpRequestLookup, MissingAndPrefixNamesGiveEmpty) {
  const auto r = sample();
  EXPECT_TRUE(r.header("Hos").empty());    // same prefix, shorter
  EXPECT_TRUE(r.header("Hosts").empty());  // longer
  EXPECT_TRUE(r.header("Hast").empty());   // same length, differs inside
  EXPECT_TRUE(r.header("").empty());
  EXPECT_TRUE(ns::http_request{}.header("Host").empty());
}

TEST(HttpRequestLookup, CaseFoldingIsAsciiOnly) {
  ns::http_request r;
  r.headers = {{"X-\xC3\x84", "umlaut"}, {"A_B", "underscore"}};
  EXPECT_EQ(r.header("x-\xC3\x84"), "umlaut");
  EXPECT_TRUE(r.header("X-\xC3\xA4").empty()) << "non-ASCII bytes must compare exactly";
  EXPECT_TRUE(r.header("a-b").empty()) << "'_' and '-' are different characters";
  EXPECT_EQ(r.header("a_b"), "underscore");
}

TEST(HttpRequestLookup, PathStopsAtFirstQuestionMark) {
  EXPECT_EQ(sample().path(), "/a%20b/c.html");
  ns::http_request r;
  r.target = "/plain";
  EXPECT_EQ(r.path(), "/plain");
  r.target = "?only=query";
  EXPECT_EQ(r.path(), "");
  r.target = "*";  // OPTIONS * (RFC 9112 §3.2.4)
  EXPECT_EQ(r.path(), "*");
}

TEST(HttpRequestLookup, DefaultsDescribeAKeepAliveHttp11Request) {
  const ns::http_request r;
  EXPECT_EQ(r.version_major, 1);
  EXPECT_EQ(r.version_minor, 1);
  EXPECT_TRUE(r.keep_alive);
  EXPECT_FALSE(r.upgrade);
  EXPECT_TRUE(r.body.empty());
}

TEST(PublicConfig, DefaultsAreUsableTogether) {
  const ns::server_config c;
  // The provided-buffer ring needs a power of two (io_uring_register_buf_ring).
  EXPECT_NE(c.recv_buffer_count, 0u);
  EXPECT_EQ(c.recv_buffer_count & (c.recv_buffer_count - 1), 0u);
  // Bodies that arrive whole must be within the body limit.
  EXPECT_LE(c.http.max_buffered_body, c.http.max_body_bytes);
  // A frame can never be larger than the message it belongs to.
  EXPECT_LE(c.ws.max_frame_bytes, c.ws.max_message_bytes);
  EXPECT_GT(c.websocket.idle_timeout.count(), 0);
  EXPECT_EQ(c.websocket.deflate, ns::ws_deflate_mode::shared);
  EXPECT_TRUE(c.tls.certificates.empty());
  EXPECT_NE(ns::invalid_client, ns::client_num_t{0});
}

}  // namespace
