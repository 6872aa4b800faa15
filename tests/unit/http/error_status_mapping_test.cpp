// SPDX-License-Identifier: MIT
// Every http::error has its own static reason and the status code the header documents:
// 414/431/413 for the limits (RFC 9110 §15.5.15, RFC 6585 §5, RFC 9110 §15.5.14), 501 for an
// unknown method (RFC 9110 §15.6.2), 505 for HTTP/2+ (§15.6.6), 400 for every malformed shape.
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "http/error.hpp"

namespace {

using ns::http::error;

constexpr auto last_error = error::after_upgrade;

TEST(HttpErrorMapping, EveryErrorHasADistinctReason) {
  std::set<std::string> seen;
  for (int i = 0; i <= static_cast<int>(last_error); ++i) {
    const std::string_view r = ns::http::reason(static_cast<error>(i));
    EXPECT_FALSE(r.empty()) << i;
    EXPECT_NE(r, "unknown error") << i;
    EXPECT_TRUE(seen.insert(std::string(r)).second) << "duplicate reason: " << r;
  }
  EXPECT_EQ(ns::http::reason(static_cast<error>(999)), "unknown error");
}

TEST(HttpErrorMapping, StatusCodesMatchTheDocumentedTable) {
  EXPECT_EQ(ns::http::status_code(error::none), 0);
  EXPECT_EQ(ns::http::status_code(error::uri_too_long), 414);
  EXPECT_EQ(ns::http::status_code(error::header_fields_too_large), 431);
  EXPECT_EQ(ns::http::status_code(error::body_too_large), 413);
  EXPECT_EQ(ns::http::status_code(error::unknown_method), 501);
  EXPECT_EQ(ns::http::status_code(error::version_not_supported), 505);
  for (const error e :
       {error::bad_request, error::missing_host, error::duplicate_host, error::invalid_host,
        error::length_and_chunked, error::duplicate_content_length, error::invalid_content_length,
        error::invalid_transfer_encoding, error::obs_fold, error::bare_lf, error::invalid_header,
        error::invalid_chunk, error::invalid_version, error::malformed_request_line,
        error::after_upgrade}) {
    EXPECT_EQ(ns::http::status_code(e), 400) << ns::http::reason(e);
  }
}

TEST(HttpErrorMapping, EveryErrorIsAClientOrServerErrorStatus) {
  for (int i = 1; i <= static_cast<int>(last_error); ++i) {
    const int s = ns::http::status_code(static_cast<error>(i));
    EXPECT_GE(s, 400) << i;
    EXPECT_LT(s, 600) << i;
  }
}

}  // namespace
