// SPDX-License-Identifier: MIT
#include "http/multipart.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ns::http {
namespace {

struct part {
  std::string name, filename, type, data;
  bool ended = false;
};

struct outcome {
  std::vector<part> parts;
  bool done = false;
  multipart_error err = multipart_error::none;
};

outcome parse(std::string_view boundary, const std::vector<std::string_view>& pieces,
              multipart_limits lim = {}) {
  multipart_parser p(boundary, lim);
  outcome o;
  for (std::string_view in : pieces) {
    for (int guard = 0; guard < 100000; ++guard) {
      auto r = p.feed(in);
      EXPECT_LE(r.consumed, in.size());
      in.remove_prefix(r.consumed);
      switch (r.status) {
        case multipart_status::need_more:
          break;
        case multipart_status::part_begin:
          o.parts.push_back({std::string(p.part().name), std::string(p.part().filename),
                             std::string(p.part().content_type), "", false});
          continue;
        case multipart_status::part_data:
          EXPECT_FALSE(r.data.empty());
          if (o.parts.empty())
            ADD_FAILURE() << "data before part_begin";
          else
            o.parts.back().data += r.data;
          continue;
        case multipart_status::part_end:
          if (o.parts.empty())
            ADD_FAILURE() << "part_end before part_begin";
          else
            o.parts.back().ended = true;
          continue;
        case multipart_status::done:
          o.done = true;
          return o;
        case multipart_status::error:
          o.err = p.error();
          return o;
      }
      break;
    }
  }
  return o;
}

const std::string k_body =
    "preamble to ignore\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"title\"\r\n"
    "\r\n"
    "hello\r\nworld\r\n"
    "--XyZ  \r\n"
    "content-disposition: form-data; name=\"file\"; filename=\"a;b.txt\"\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "almost \r\n--XyY delimiter \r\r\n-- \r\n--XyQ inside\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=empty\r\n"
    "\r\n"
    "\r\n"
    "--XyZ--\r\n"
    "epilogue";

void check_body(const outcome& o) {
  ASSERT_TRUE(o.done) << reason(o.err);
  ASSERT_EQ(o.parts.size(), 3u);
  EXPECT_EQ(o.parts[0].name, "title");
  EXPECT_EQ(o.parts[0].data, "hello\r\nworld");
  EXPECT_EQ(o.parts[1].name, "file");
  EXPECT_EQ(o.parts[1].filename, "a;b.txt");
  EXPECT_EQ(o.parts[1].type, "text/plain");
  EXPECT_EQ(o.parts[1].data, "almost \r\n--XyY delimiter \r\r\n-- \r\n--XyQ inside");
  EXPECT_EQ(o.parts[2].name, "empty");
  EXPECT_EQ(o.parts[2].data, "");
  for (const auto& p : o.parts) EXPECT_TRUE(p.ended);
}

TEST(HttpMultipart, Boundary) {
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(multipart_boundary("Multipart/Form-Data;boundary=\"a b:c\""), "a b:c");
  EXPECT_EQ(multipart_boundary("multipart/form-data; charset=x; boundary=q1"), "q1");
  EXPECT_EQ(multipart_boundary("multipart/mixed; boundary=abc"), "");
  EXPECT_EQ(multipart_boundary("multipart/form-data"), "");
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary="), "");
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=\"" + std::string(71, 'a') + "\""),
            "");
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=\"a\r\"b\""), "");
}

TEST(HttpMultipart, SeveralPartsWhole) {
  check_body(parse("XyZ", {k_body}));
}

TEST(HttpMultipart, SplitAtEveryOffset) {
  for (std::size_t i = 0; i <= k_body.size(); ++i) {
    const std::string_view b(k_body);
    check_body(parse("XyZ", {b.substr(0, i), b.substr(i)}));
    if (::testing::Test::HasFailure()) FAIL() << "split at " << i;
  }
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < k_body.size(); ++i)
    bytes.push_back(std::string_view(k_body).substr(i, 1));
  check_body(parse("XyZ", bytes));
}

TEST(HttpMultipart, BodyStartingWithDelimiter) {
  auto o = parse("b", {"--b\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--b--"});
  ASSERT_TRUE(o.done);
  ASSERT_EQ(o.parts.size(), 1u);
  EXPECT_EQ(o.parts[0].data, "x");
}

TEST(HttpMultipart, Errors) {
  EXPECT_EQ(parse("b", {"--b\r\nX: y\r\n\r\nx\r\n--b--"}).err,
            multipart_error::missing_disposition);
  EXPECT_EQ(parse("b", {"--b\r\nContent-Disposition: attachment; name=a\r\n\r\n"}).err,
            multipart_error::missing_disposition);
  EXPECT_EQ(parse("b", {"--bX\r\n"}).err, multipart_error::malformed_delimiter);
  EXPECT_EQ(parse("b", {"--b\rX"}).err, multipart_error::malformed_delimiter);
  EXPECT_EQ(parse("b", {"--b-x"}).err, multipart_error::malformed_delimiter);
  EXPECT_EQ(parse("b", {"--b\r\nno colon\r\n\r\n"}).err, multipart_error::malformed_header);
  EXPECT_EQ(parse("b", {"--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\n"}).err,
            multipart_error::malformed_header);
  multipart_limits lim;
  lim.max_header_bytes = 32;
  EXPECT_EQ(
      parse("b", {"--b\r\nContent-Disposition: form-data; name=aaaaaaaaaaaa\r\n\r\n"}, lim).err,
      multipart_error::headers_too_large);
  lim = {};
  lim.max_parts = 1;
  const std::string two =
      "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n"
      "--b\r\nContent-Disposition: form-data; name=b\r\n\r\n2\r\n--b--";
  EXPECT_EQ(parse("b", {two}, lim).err, multipart_error::too_many_parts);
  EXPECT_TRUE(parse("b", {two}).done);
  lim = {};
  lim.max_headers = 1;
  EXPECT_EQ(parse("b", {"--b\r\nContent-Disposition: form-data; name=a\r\nA: 1\r\n\r\n"}, lim).err,
            multipart_error::too_many_headers);
  multipart_parser bad("");
  EXPECT_EQ(bad.feed(std::string_view("x")).status, multipart_status::error);
  EXPECT_EQ(bad.error(), multipart_error::bad_boundary);
}

// Each bound allows exactly its value; the Errors cases above exceed them.
TEST(HttpMultipart, LimitsAllowTheirValueExactly) {
  // RFC 2046 §5.1.1: a boundary has 1 to 70 characters.
  const std::string b70(70, 'b');
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=" + b70), b70);
  const std::string head = "Content-Disposition: form-data; name=a\r\nA: 1\r\n\r\n";
  const std::string one = "--b\r\n" + head + "x\r\n--b--";
  multipart_limits lim;
  lim.max_header_bytes = head.size();  // the part's header section, blank line included
  EXPECT_TRUE(parse("b", {one}, lim).done);
  lim.max_header_bytes = head.size() - 1;
  EXPECT_EQ(parse("b", {one}, lim).err, multipart_error::headers_too_large);
  lim = {};
  lim.max_headers = 2;
  EXPECT_TRUE(parse("b", {one}, lim).done);
  lim = {};
  lim.max_parts = 2;
  EXPECT_TRUE(parse("b", {"--b\r\n" + head + "1\r\n--b\r\n" + head + "2\r\n--b--"}, lim).done);
  // Transport padding after a delimiter: up to 255 blanks.
  const std::string pad = "--b" + std::string(255, ' ') + "\r\n" + head + "x\r\n--b--";
  EXPECT_TRUE(parse("b", {pad}).done);
  EXPECT_EQ(parse("b", {"--b" + std::string(256, '\t') + "\r\n" + head + "x\r\n--b--"}).err,
            multipart_error::malformed_delimiter);
}

TEST(HttpMultipart, IncompleteBodyIsNotDone) {
  multipart_parser p("b");
  std::string_view in = "--b\r\nContent-Disposition: form-data; name=a\r\n\r\nabc\r\n--";
  for (;;) {
    auto r = p.feed(in);
    in.remove_prefix(r.consumed);
    if (r.status == multipart_status::need_more) break;
  }
  EXPECT_FALSE(p.done());
}

}  // namespace
}  // namespace ns::http
