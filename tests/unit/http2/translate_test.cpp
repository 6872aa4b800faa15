// SPDX-License-Identifier: MIT
#include "http2/translate.hpp"

#include <gtest/gtest.h>

namespace ns::http2 {
namespace {

TEST(Http2Translate, HeadFieldsAndBody) {
  translated_response r;
  std::string scratch;
  ASSERT_TRUE(translate_http1_response(
      "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nConnection: keep-alive\r\n"
      "Keep-Alive: timeout=5\r\nContent-Length:  4 \r\n\r\nnope",
      r, scratch));
  EXPECT_EQ(r.status, 404);
  ASSERT_EQ(r.fields.size(), 2u);
  EXPECT_EQ(r.fields[0].name, "Content-Type");
  EXPECT_EQ(r.fields[1].value, "4");
  EXPECT_EQ(r.body, "nope");
}

TEST(Http2Translate, ChunkedBodyIsDechunked) {
  translated_response r;
  std::string scratch;
  ASSERT_TRUE(translate_http1_response(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n1\r\n!\r\n0\r\n\r\n",
      r, scratch));
  EXPECT_TRUE(r.fields.empty());
  EXPECT_EQ(r.body, "hello!");
}

TEST(Http2Translate, InterimResponseSkipped) {
  translated_response r;
  std::string scratch;
  ASSERT_TRUE(translate_http1_response(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nX: 1\r\n\r\n", r, scratch));
  EXPECT_EQ(r.status, 201);
  ASSERT_EQ(r.fields.size(), 1u);
  EXPECT_TRUE(r.body.empty());
}

TEST(Http2Translate, RefusesWhatIsNotAResponse) {
  translated_response r;
  std::string scratch;
  EXPECT_FALSE(translate_http1_response("hello", r, scratch));
  EXPECT_FALSE(translate_http1_response("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", r, scratch));
  EXPECT_FALSE(translate_http1_response("HTTP/1.1 2x0 OK\r\n\r\n", r, scratch));
  EXPECT_FALSE(translate_http1_response("HTTP/1.1 200 OK\r\nX: 1\r\n", r, scratch));
  EXPECT_FALSE(translate_http1_response(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", r, scratch));
}

}  // namespace
}  // namespace ns::http2
