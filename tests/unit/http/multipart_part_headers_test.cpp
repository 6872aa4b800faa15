// SPDX-License-Identifier: MIT
// multipart/form-data part headers (RFC 7578 §4 on RFC 2046 §5.1): field names are tokens,
// values carry no control characters, Content-Disposition must be form-data with a name, and
// after the close delimiter everything is epilogue. Every refusal has its own static reason.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "http/multipart.hpp"

namespace ns::http {
namespace {

/// Feeds @p body whole; returns the parser's error (none) and whether the body completed.
struct outcome {
  multipart_error err = multipart_error::none;
  bool done = false;
  std::string name, filename;
  bool has_filename = false;
};

outcome run(std::string_view body) {
  multipart_parser p("XyZ");
  outcome o;
  for (int guard = 0; guard < 1000; ++guard) {
    const multipart_result r = p.feed(body);
    body.remove_prefix(r.consumed);
    if (r.status == multipart_status::part_begin) {
      o.name = std::string(p.part().name);
      o.filename = std::string(p.part().filename);
      o.has_filename = p.part().has_filename;
    }
    if (r.status == multipart_status::error) {
      o.err = p.error();
      return o;
    }
    if (r.status == multipart_status::done) {
      o.done = true;
      return o;
    }
    if (r.status == multipart_status::need_more) return o;
  }
  ADD_FAILURE() << "parser did not stop";
  return o;
}

std::string body_with_header(std::string_view header_line) {
  return "--XyZ\r\n" + std::string(header_line) + "\r\n\r\nvalue\r\n--XyZ--\r\n";
}

TEST(MultipartPartHeaders, EveryErrorHasADistinctReason) {
  std::set<std::string> seen;
  for (int i = 0; i <= static_cast<int>(multipart_error::missing_disposition); ++i) {
    const std::string_view r = reason(static_cast<multipart_error>(i));
    EXPECT_NE(r, "unknown error") << i;
    EXPECT_TRUE(seen.insert(std::string(r)).second) << "duplicate reason: " << r;
  }
  EXPECT_EQ(reason(static_cast<multipart_error>(99)), "unknown error");
}

TEST(MultipartPartHeaders, WellFormedPartIsAccepted) {
  const outcome o =
      run(body_with_header("Content-Disposition: form-data; name=\"f\"; filename=\"a.txt\""));
  EXPECT_EQ(o.err, multipart_error::none);
  EXPECT_TRUE(o.done);
  EXPECT_EQ(o.name, "f");
  EXPECT_EQ(o.filename, "a.txt");
  EXPECT_TRUE(o.has_filename);
}

TEST(MultipartPartHeaders, FieldNameMustBeAToken) {
  const outcome o =
      run("--XyZ\r\nContent-Disposition: form-data; name=a\r\nX Bad: 1\r\n\r\nv\r\n--XyZ--\r\n");
  EXPECT_EQ(o.err, multipart_error::malformed_header);
  EXPECT_EQ(run(body_with_header(": form-data; name=a")).err, multipart_error::malformed_header)
      << "empty field name";
}

TEST(MultipartPartHeaders, ControlCharactersInValuesAreRefused) {
  EXPECT_EQ(run(body_with_header("Content-Disposition: form-data; name=\"a\x01\"")).err,
            multipart_error::malformed_header);
  EXPECT_EQ(run(body_with_header("Content-Disposition: form-data; name=\"a\x7f\"")).err,
            multipart_error::malformed_header);
  // HTAB is allowed inside a value.
  EXPECT_EQ(run(body_with_header("Content-Disposition: form-data;\tname=\"a\"")).err,
            multipart_error::none);
}

TEST(MultipartPartHeaders, DispositionMustBeFormDataWithParameters) {
  EXPECT_EQ(run(body_with_header("Content-Disposition: form-data")).err,
            multipart_error::missing_disposition);
  EXPECT_EQ(run(body_with_header("Content-Disposition: attachment; name=a")).err,
            multipart_error::missing_disposition);
  EXPECT_EQ(run(body_with_header("Content-Disposition: form-data; filename=x")).err,
            multipart_error::missing_disposition)
      << "a name parameter is required (RFC 7578 §4.2)";
}

TEST(MultipartPartHeaders, MalformedParametersAreRefused) {
  EXPECT_EQ(run(body_with_header("Content-Disposition: form-data; name")).err,
            multipart_error::malformed_header);
  EXPECT_EQ(run(body_with_header("Content-Disposition: form-data; =x")).err,
            multipart_error::malformed_header);
  EXPECT_EQ(run(body_with_header("Content-Disposition: form-data; name=a;")).err,
            multipart_error::none)
      << "a trailing ';' is tolerated";
  EXPECT_EQ(run(body_with_header("Content-Disposition: form-data ; name = \"q\\\"x\" ")).name,
            "q\\\"x")
      << "quoted-string kept as sent, escapes included";
}

TEST(MultipartPartHeaders, EverythingAfterTheCloseDelimiterIsEpilogue) {
  multipart_parser p("XyZ");
  const std::string body = body_with_header("Content-Disposition: form-data; name=a");
  std::string_view in = body;
  multipart_result r;
  do {
    r = p.feed(in);
    in.remove_prefix(r.consumed);
  } while (r.status != multipart_status::done && r.status != multipart_status::error);
  ASSERT_EQ(r.status, multipart_status::done);
  ASSERT_TRUE(p.done());
  const multipart_result more = p.feed(std::string_view("--XyZ\r\ngarbage after the end"));
  EXPECT_EQ(more.status, multipart_status::done);
  EXPECT_EQ(more.consumed, 28u) << "the epilogue is consumed and ignored";
  EXPECT_EQ(p.error(), multipart_error::none);
}

TEST(MultipartPartHeaders, BadBoundaryFailsEveryFeed) {
  multipart_parser p(std::string(71, 'b'));
  EXPECT_EQ(p.error(), multipart_error::bad_boundary);
  EXPECT_EQ(p.feed(std::string_view("--x")).status, multipart_status::error);
  EXPECT_EQ(p.feed(std::string_view("--x")).consumed, 0u);
}

}  // namespace
}  // namespace ns::http
