// SPDX-License-Identifier: MIT
#include "http/range.hpp"

#include <gtest/gtest.h>

#include "http/conditional.hpp"

namespace ns::http {
namespace {

range_set one(std::string_view v, std::uint64_t size) {
  return parse_range(v, size);
}

void expect_single(std::string_view v, std::uint64_t size, std::uint64_t a, std::uint64_t b) {
  auto r = one(v, size);
  ASSERT_EQ(r.outcome, range_outcome::partial) << v;
  ASSERT_EQ(r.count, 1u) << v;
  EXPECT_EQ(r.ranges[0].first, a) << v;
  EXPECT_EQ(r.ranges[0].last, b) << v;
}

TEST(HttpRange, SingleForms) {
  expect_single("bytes=0-99", 1000, 0, 99);
  expect_single("bytes=500-", 1000, 500, 999);
  expect_single("bytes=-100", 1000, 900, 999);
  expect_single("bytes=-5000", 1000, 0, 999);
  expect_single("bytes=900-5000", 1000, 900, 999);
  expect_single("BYTES=1-1", 10, 1, 1);
  expect_single("bytes= 1-2 , ", 10, 1, 2);
}

TEST(HttpRange, Unsatisfiable) {
  EXPECT_EQ(one("bytes=1000-", 1000).outcome, range_outcome::not_satisfiable);
  EXPECT_EQ(one("bytes=-0", 1000).outcome, range_outcome::not_satisfiable);
  EXPECT_EQ(one("bytes=0-0", 0).outcome, range_outcome::not_satisfiable);
  EXPECT_EQ(one("bytes=-1", 0).outcome, range_outcome::not_satisfiable);
  EXPECT_EQ(one("bytes=2000-3000,1000-", 1000).outcome, range_outcome::not_satisfiable);
  std::string s;
  append_unsatisfied_range(s, 1000);
  EXPECT_EQ(s, "bytes */1000");
}

TEST(HttpRange, MalformedIsIgnored) {
  for (std::string_view v :
       {"", "bytes", "bytes=", "items=0-1", "bytes=a-b", "bytes=5-1", "bytes=1", "bytes=--1",
        "bytes=1-2-3", "bytes=99999999999999999999-", "bytes=0-1,x", "bytes 0-1"}) {
    EXPECT_EQ(one(v, 1000).outcome, range_outcome::full) << v;
  }
}

TEST(HttpRange, SeveralRangesSortedAndCoalesced) {
  auto r = one("bytes=500-599,0-99,50-150,-100", 1000);
  ASSERT_EQ(r.outcome, range_outcome::partial);
  ASSERT_EQ(r.count, 3u);
  EXPECT_EQ(r.ranges[0].first, 0u);
  EXPECT_EQ(r.ranges[0].last, 150u);
  EXPECT_EQ(r.ranges[1].first, 500u);
  EXPECT_EQ(r.ranges[2].first, 900u);
  // Small gaps merge.
  r = one("bytes=0-9,20-29", 1000);
  EXPECT_EQ(r.count, 1u);
  EXPECT_EQ(r.ranges[0].last, 29u);
}

TEST(HttpRange, CoalesceGapBoundary) {
  // Ranges merge while next.first - prev.last <= range_coalesce_gap (at most gap - 1 skipped
  // bytes); one byte further apart they stay two parts.
  const std::uint64_t g = range_coalesce_gap;
  const std::string at = "bytes=0-9," + std::to_string(9 + g) + "-" + std::to_string(9 + g + 9);
  auto r = one(at, 1000);
  ASSERT_EQ(r.outcome, range_outcome::partial);
  ASSERT_EQ(r.count, 1u) << at;
  EXPECT_EQ(r.ranges[0].first, 0u);
  EXPECT_EQ(r.ranges[0].last, 9 + g + 9);
  const std::string past = "bytes=0-9," + std::to_string(10 + g) + "-" + std::to_string(10 + g + 9);
  r = one(past, 1000);
  ASSERT_EQ(r.count, 2u) << past;
  EXPECT_EQ(r.ranges[0].last, 9u);
  EXPECT_EQ(r.ranges[1].first, 10 + g);
}

TEST(HttpRange, AbuseIsBounded) {
  // Sixteen overlapping full ranges collapse to one.
  std::string v = "bytes=0-";
  for (int i = 0; i < 15; ++i) v += ",0-";
  auto r = one(v, 1000);
  ASSERT_EQ(r.outcome, range_outcome::partial);
  EXPECT_EQ(r.count, 1u);
  EXPECT_EQ(r.ranges[0].length(), 1000u);
  // Seventeen specs: ignored.
  v += ",0-";
  EXPECT_EQ(one(v, 1000).outcome, range_outcome::full);
}

TEST(HttpRange, MultipartFraming) {
  auto r = one("bytes=0-1,500-502", 1000);
  ASSERT_EQ(r.count, 2u);
  char b[boundary_size];
  make_boundary(7, b);
  const std::string_view boundary(b, sizeof b);
  char other[boundary_size];
  make_boundary(8, other);
  EXPECT_NE(boundary, std::string_view(other, sizeof other));
  std::string body;
  const std::string file(1000, 'q');
  for (std::size_t i = 0; i < r.count; ++i) {
    append_part_header(body, boundary, "text/plain", r.ranges[i], 1000);
    body += file.substr(r.ranges[i].first, r.ranges[i].length());
  }
  append_multipart_end(body, boundary);
  EXPECT_EQ(body.size(), multipart_length(r, boundary, "text/plain", 1000));
  EXPECT_NE(body.find("Content-Range: bytes 500-502/1000\r\n\r\nqqq\r\n--" + std::string(boundary) +
                      "--\r\n"),
            std::string::npos);
  std::string cr;
  append_content_range(cr, r.ranges[0], 1000);
  EXPECT_EQ(cr, "bytes 0-1/1000");
}

TEST(HttpConditional, ETagAndLists) {
  const auto e = make_etag(0x10, 0x20, 0x30);
  EXPECT_EQ(e.view(), "\"30-10-20\"");
  EXPECT_NE(make_etag(0x10, 0x21, 0x30).view(), e.view());
  const auto big = make_etag(UINT64_MAX, INT64_MAX, UINT64_MAX);
  EXPECT_EQ(big.view().size(), 2u + 16 + 1 + 16 + 1 + 16);
  EXPECT_TRUE(etag_list_matches("\"a\", \"30-10-20\"", e.view(), false));
  EXPECT_TRUE(etag_list_matches("W/\"30-10-20\"", e.view(), true));
  EXPECT_FALSE(etag_list_matches("W/\"30-10-20\"", e.view(), false));
  EXPECT_TRUE(etag_list_matches(" * ", e.view(), false));
  EXPECT_FALSE(etag_list_matches("\"30-10-20", e.view(), true));
  EXPECT_FALSE(etag_list_matches("30-10-20", e.view(), true));
  EXPECT_FALSE(etag_list_matches("\"b\"", e.view(), true));
}

TEST(HttpConditional, Preconditions) {
  const auto e = make_etag(1, 2, 3);
  const validators v{e.view(), 784111777};
  const std::string tag(e.view());
  // Headers in the order If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since.
  auto eval = [&](std::string_view im, std::string_view ius, std::string_view inm,
                  std::string_view ims, bool gh = true) {
    conditional_headers h;
    h.if_match = im;
    h.if_unmodified_since = ius;
    h.if_none_match = inm;
    h.if_modified_since = ims;
    return evaluate_preconditions(h, gh, v);
  };
  const std::string_view date = "Sun, 06 Nov 1994 08:49:37 GMT";
  const std::string_view before = "Sun, 06 Nov 1994 08:49:36 GMT";
  EXPECT_EQ(eval("", "", "", ""), precondition::proceed);
  EXPECT_EQ(eval("", "", tag, ""), precondition::not_modified);
  EXPECT_EQ(eval("", "", "W/" + tag, ""), precondition::not_modified);
  EXPECT_EQ(eval("", "", tag, "", false), precondition::precondition_failed);
  EXPECT_EQ(eval("", "", "\"other\"", ""), precondition::proceed);
  EXPECT_EQ(eval("", "", "", date), precondition::not_modified);
  EXPECT_EQ(eval("", "", "", date, false), precondition::proceed);
  EXPECT_EQ(eval("", "", "", before), precondition::proceed);
  EXPECT_EQ(eval("", "", "", "nonsense"), precondition::proceed);
  // If-None-Match wins over If-Modified-Since (RFC 9110 §13.1.3).
  EXPECT_EQ(eval("", "", "\"other\"", date), precondition::proceed);
  EXPECT_EQ(eval("\"other\"", "", "", ""), precondition::precondition_failed);
  EXPECT_EQ(eval(tag, "", "", ""), precondition::proceed);
  EXPECT_EQ(eval("", before, "", ""), precondition::precondition_failed);
  EXPECT_EQ(eval("", date, "", ""), precondition::proceed);
}

TEST(HttpConditional, IfRange) {
  const auto e = make_etag(1, 2, 3);
  const validators v{e.view(), 784111777};
  EXPECT_TRUE(if_range_allows("", v));
  EXPECT_TRUE(if_range_allows(e.view(), v));
  EXPECT_FALSE(if_range_allows("W/" + std::string(e.view()), v));
  EXPECT_FALSE(if_range_allows("\"x\"", v));
  EXPECT_TRUE(if_range_allows("Sun, 06 Nov 1994 08:49:37 GMT", v));
  EXPECT_FALSE(if_range_allows("Sun, 06 Nov 1994 08:49:38 GMT", v));
  EXPECT_FALSE(if_range_allows("junk", v));
  ns::http_request req;
  req.headers.push_back({"if-range", "x"});
  EXPECT_EQ(conditional_headers::from(req).if_range, "x");
}

}  // namespace
}  // namespace ns::http
