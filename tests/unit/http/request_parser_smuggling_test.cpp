// SPDX-License-Identifier: MIT
// Request smuggling shapes (RFC 9112 §6.3, §5.2, §2.2, §7.1): each must be refused with 400,
// whatever the split of the input, and the parser must stay failed (the connection closes).
#include <gtest/gtest.h>

#include <string>

#include "feed_split.hpp"
#include "http/request_parser.hpp"

namespace ns::http {
namespace {

struct shape {
  const char* name;
  std::string input;
  error expected;
};

const std::string post = "POST / HTTP/1.1\r\nHost: h\r\n";

std::vector<shape> shapes() {
  return {
      {"CL then TE", post + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       error::length_and_chunked},
      {"TE then CL", post + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
       error::length_and_chunked},
      {"two different CL", post + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
       error::duplicate_content_length},
      {"two equal CL", post + "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
       error::duplicate_content_length},
      {"CL list", post + "Content-Length: 3, 3\r\n\r\nabc", error::invalid_content_length},
      {"CL sign", post + "Content-Length: +3\r\n\r\nabc", error::invalid_content_length},
      {"chunked not last", post + "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
       error::invalid_transfer_encoding},
      {"TE without chunked", post + "Transfer-Encoding: gzip\r\n\r\n",
       error::invalid_transfer_encoding},
      {"TE twice", post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
       error::invalid_transfer_encoding},
      {"xchunked", post + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
       error::invalid_transfer_encoding},
      {"obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", error::obs_fold},
      {"obs-fold tab", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", error::obs_fold},
      {"space before first field", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", error::obs_fold},
      {"bare LF request line", "GET / HTTP/1.1\nHost: h\r\n\r\n", error::bare_lf},
      {"bare LF header", "GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", error::bare_lf},
      {"bare LF end", "GET / HTTP/1.1\r\nHost: h\r\n\n", error::bare_lf},
      {"bare CR", "GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", error::bad_request},
      {"bad chunk size", post + "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
       error::invalid_chunk},
      {"chunk size space", post + "Transfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n",
       error::invalid_chunk},
      {"chunk bare LF", post + "Transfer-Encoding: chunked\r\n\r\n3\nabc\n0\n\n",
       error::invalid_chunk},
      {"chunk overrun", post + "Transfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
       error::invalid_chunk},
      {"chunk size overflow",
       post + "Transfer-Encoding: chunked\r\n\r\n10000000000000000\r\nabc\r\n0\r\n\r\n",
       error::invalid_chunk},
      {"ctl in value", std::string("GET / HTTP/1.1\r\nHost: h\r\nX: a\x01z\r\n\r\n"),
       error::invalid_header},
      {"NUL in value", std::string("GET / HTTP/1.1\r\nHost: h\r\nX: a\0z\r\n\r\n", 36),
       error::invalid_header},
      {"DEL in value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n", error::invalid_header},
      {"space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", error::invalid_header},
      {"host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", error::invalid_host},
      {"host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", error::invalid_host},
      {"host with at", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", error::invalid_host},
      {"bad name char", "GET / HTTP/1.1\r\nHost: h\r\nX(y): 1\r\n\r\n", error::invalid_header},
  };
}

TEST(HttpRequestParserSmuggling, EveryShapeIs400AndSticky) {
  for (const auto& s : shapes()) {
    for (std::size_t split = 0; split <= s.input.size(); ++split) {
      request_parser p({});
      auto ev = test::run(
          p, {std::string_view(s.input).substr(0, split), std::string_view(s.input).substr(split)});
      ASSERT_FALSE(ev.empty()) << s.name << " split " << split;
      ASSERT_EQ(ev.back().status, parse_status::error) << s.name << " split " << split;
      for (std::size_t i = 0; i + 1 < ev.size(); ++i) {
        EXPECT_NE(ev[i].status, parse_status::request_ready) << s.name;
      }
      EXPECT_EQ(p.error(), s.expected) << s.name << " got " << reason(p.error());
      EXPECT_EQ(p.status_code(), 400) << s.name;
      // The connection must close: nothing further is parsed.
      EXPECT_EQ(p.feed(std::string_view("GET / HTTP/1.1\r\nHost: h\r\n\r\n")).status,
                parse_status::error);
    }
  }
}

TEST(HttpRequestParserSmuggling, BodyBytesAreNotScannedAsHead) {
  // A bare LF inside a body is data, not framing.
  request_parser p({});
  auto r = p.feed(std::string_view(post + "Content-Length: 3\r\n\r\na\nb"));
  EXPECT_EQ(r.status, parse_status::request_ready);
  EXPECT_EQ(p.request().body, "a\nb");
}

}  // namespace
}  // namespace ns::http
