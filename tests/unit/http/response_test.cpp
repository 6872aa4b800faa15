// SPDX-License-Identifier: MIT
#include "http/response.hpp"

#include <gtest/gtest.h>

#include "http/http_date.hpp"
#include "http/mime.hpp"

namespace ns::http {
namespace {

TEST(HttpDate, FormatsKnownInstants) {
  char buf[imf_fixdate_size];
  format_imf_fixdate(784111777, buf);  // RFC 9110's example
  EXPECT_EQ(std::string_view(buf, sizeof buf), "Sun, 06 Nov 1994 08:49:37 GMT");
  format_imf_fixdate(0, buf);
  EXPECT_EQ(std::string_view(buf, sizeof buf), "Thu, 01 Jan 1970 00:00:00 GMT");
  format_imf_fixdate(951782400, buf);  // leap day 2000
  EXPECT_EQ(std::string_view(buf, sizeof buf), "Tue, 29 Feb 2000 00:00:00 GMT");
  format_imf_fixdate(4102444799, buf);
  EXPECT_EQ(std::string_view(buf, sizeof buf), "Thu, 31 Dec 2099 23:59:59 GMT");
}

TEST(HttpDate, ParsesAllThreeForms) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), 784111777);
  EXPECT_FALSE(parse_http_date("Sun, 31 Feb 1994 08:49:37 GMT"));
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC"));
  EXPECT_FALSE(parse_http_date("garbage"));
  EXPECT_FALSE(parse_http_date(""));
}

TEST(HttpDate, RoundTripsAndCaches) {
  char buf[imf_fixdate_size];
  for (std::int64_t t = 0; t < 5'000'000'000; t += 86'399 * 37 + 13) {
    format_imf_fixdate(t, buf);
    ASSERT_EQ(parse_http_date(std::string_view(buf, sizeof buf)), t);
  }
  http_date d;
  const auto a = d.get(784111777);
  EXPECT_EQ(a, "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(d.get(784111778), "Sun, 06 Nov 1994 08:49:38 GMT");
}

TEST(HttpResponse, WritesHead) {
  std::string out;
  response_writer w(out);
  w.start(200, "Sun, 06 Nov 1994 08:49:37 GMT")
      .content_length(42)
      .keep_alive(true)
      .header("Content-Type", "text/plain")
      .end();
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nServer: network_server\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
            "Content-Length: 42\r\nConnection: keep-alive\r\nContent-Type: text/plain\r\n\r\n");
}

TEST(HttpResponse, NoAllocationOnceWarm) {
  std::string out;
  out.reserve(512);
  const char* storage = out.data();
  for (int i = 0; i < 100; ++i) {
    out.clear();
    response_writer(out).start(404, "x").chunked().keep_alive(false).end();
  }
  EXPECT_EQ(out.data(), storage);
  EXPECT_NE(out.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
}

TEST(HttpResponse, ChunkFraming) {
  std::string out;
  append_chunk_header(out, 255);
  out.append("x");
  out.append(chunk_end);
  out.append(last_chunk);
  EXPECT_EQ(out, "ff\r\nx\r\n0\r\n\r\n");
}

TEST(HttpResponse, CannedErrors) {
  for (int s : {400, 403, 404, 405, 413, 414, 416, 431, 500, 501, 503}) {
    std::string out;
    append_error_response(out, s, "D");
    const auto head_end = out.find("\r\n\r\n");
    ASSERT_NE(head_end, std::string::npos);
    const std::string body = out.substr(head_end + 4);
    EXPECT_EQ(body, std::to_string(s) + " " + std::string(reason_phrase(s)) + "\n");
    EXPECT_NE(out.find("Content-Length: " + std::to_string(body.size()) + "\r\n"),
              std::string::npos);
    EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos);
    EXPECT_EQ(out.rfind("HTTP/1.1 " + std::to_string(s) + " ", 0), 0u);
    EXPECT_NE(reason_phrase(s), "Unknown");
  }
  std::string head;
  append_error_response(head, 404, "D", true, true);
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
  EXPECT_NE(head.find("Connection: keep-alive"), std::string::npos);
  std::string r416;
  append_error_response(r416, 416, "D", true, false, "Content-Range: bytes */10\r\n");
  EXPECT_NE(r416.find("\r\nContent-Range: bytes */10\r\n\r\n416 Range Not Satisfiable\n"),
            std::string::npos);
  std::string e;
  append_error_response(e, error::header_fields_too_large, "D");
  EXPECT_EQ(e.rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0), 0u);
}

TEST(HttpMime, KnownAndUnknown) {
  EXPECT_EQ(mime_type("/a/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(mime_type("/A/INDEX.HTM"), "text/html; charset=utf-8");
  EXPECT_EQ(mime_type("x.JS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(mime_type("x.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(mime_type("x.wasm"), "application/wasm");
  EXPECT_EQ(mime_type("x.woff2"), "font/woff2");
  EXPECT_EQ(mime_type("x.jpeg"), "image/jpeg");
  EXPECT_EQ(mime_type("x.svg"), "image/svg+xml; charset=utf-8");
  EXPECT_EQ(mime_type("x.tar.gz"), "application/gzip");
  EXPECT_EQ(mime_type("x.map"), "application/json; charset=utf-8");
  EXPECT_EQ(mime_type("Makefile"), "application/octet-stream");
  EXPECT_EQ(mime_type("dir.d/file"), "application/octet-stream");
  EXPECT_EQ(mime_type("x."), "application/octet-stream");
  EXPECT_EQ(mime_type("x.verylongextension"), "application/octet-stream");
  EXPECT_EQ(mime_type("x.exe"), "application/octet-stream");
}

}  // namespace
}  // namespace ns::http
