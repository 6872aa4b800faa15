// SPDX-License-Identifier: MIT
// Entity-tag lists and If-Range (RFC 9110 §8.8.3, §13.1.1, §13.1.2, §13.1.5): strong vs weak
// comparison, list syntax with OWS and empty elements, and every malformed shape matching
// nothing (a server must not act on a precondition it cannot read as intended).
#include <gtest/gtest.h>

#include "http/conditional.hpp"

namespace ns::http {
namespace {

constexpr std::string_view cur = "\"abc\"";

TEST(EntityTagComparison, StrongComparisonNeedsBothStrong) {
  EXPECT_TRUE(etag_list_matches("\"abc\"", cur, false));
  EXPECT_FALSE(etag_list_matches("W/\"abc\"", cur, false));
  EXPECT_FALSE(etag_list_matches("\"abc\"", "W/\"abc\"", false)) << "current weak";
  EXPECT_TRUE(etag_list_matches("W/\"abc\"", "W/\"abc\"", true)) << "weak comparison ignores W/";
  EXPECT_TRUE(etag_list_matches("\"abc\"", "W/\"abc\"", true));
}

TEST(EntityTagComparison, ListsWithOwsAndEmptyElements) {
  EXPECT_TRUE(etag_list_matches(" ,\t\"x\" , ,\"abc\"\t", cur, false));
  EXPECT_FALSE(etag_list_matches("\"x\", \"y\"", cur, true));
  EXPECT_FALSE(etag_list_matches(" , ", cur, true)) << "an empty list matches nothing";
  EXPECT_FALSE(etag_list_matches("", cur, true));
}

TEST(EntityTagComparison, StarMatchesAnyRepresentationButOnlyAlone) {
  EXPECT_TRUE(etag_list_matches("*", cur, false));
  EXPECT_TRUE(etag_list_matches("  *\t ", cur, true));
  EXPECT_FALSE(etag_list_matches("*, \"abc\"", cur, true));
  EXPECT_FALSE(etag_list_matches("*", "", true)) << "no current representation";
  EXPECT_FALSE(etag_list_matches("\"abc\"", "W/", true)) << "an empty current tag";
}

TEST(EntityTagComparison, MalformedListsMatchNothing) {
  EXPECT_FALSE(etag_list_matches("abc", cur, true)) << "unquoted";
  EXPECT_FALSE(etag_list_matches("\"abc", cur, true)) << "unterminated";
  EXPECT_FALSE(etag_list_matches("\"a c\"", "\"a c\"", true)) << "SP is not etagc";
  EXPECT_FALSE(etag_list_matches("\"a\x7f\"", "\"a\x7f\"", true)) << "DEL is not etagc";
  EXPECT_FALSE(etag_list_matches("\"abc\" \"abc\"", cur, true)) << "missing comma";
  EXPECT_FALSE(etag_list_matches("\"abc\"x", cur, true));
  EXPECT_FALSE(etag_list_matches("W/", cur, true));
  EXPECT_FALSE(etag_list_matches("W", cur, true));
  EXPECT_TRUE(etag_list_matches("\"\x80\xff\"", "\"\x80\xff\"", false)) << "obs-text is etagc";
}

TEST(EntityTagComparison, IfRangeWithATagIsStrongAndExact) {
  const validators v{cur, 1000};
  EXPECT_TRUE(if_range_allows("", v));
  EXPECT_TRUE(if_range_allows(" \t ", v)) << "blank counts as absent";
  EXPECT_TRUE(if_range_allows(" \"abc\"\t", v));
  EXPECT_FALSE(if_range_allows("W/\"abc\"", v)) << "a weak tag never allows a range";
  EXPECT_FALSE(if_range_allows("\"abc\", \"x\"", v)) << "If-Range holds one tag, not a list";
  EXPECT_FALSE(if_range_allows("\"abd\"", v));
  EXPECT_FALSE(if_range_allows("\"abc", v));
  EXPECT_FALSE(if_range_allows("\"abc\"", validators{"W/\"abc\"", 1000})) << "current weak";
}

TEST(EntityTagComparison, IfRangeWithADateMustBeExact) {
  const validators v{cur, 784111777};
  EXPECT_TRUE(if_range_allows("Sun, 06 Nov 1994 08:49:37 GMT", v));
  EXPECT_FALSE(if_range_allows("Sun, 06 Nov 1994 08:49:38 GMT", v));
  EXPECT_FALSE(if_range_allows("Sun, 06 Nov 1994 08:49:36 GMT", v)) << "older is not equal";
  EXPECT_FALSE(if_range_allows("yesterday", v));
}

TEST(EntityTagComparison, PreconditionsFollowTheRfcOrder) {
  const validators v{cur, 784111777};
  conditional_headers h;
  // If-Unmodified-Since is ignored when If-Match is present (step 1 before 2).
  h.if_match = "*";
  h.if_unmodified_since = "Thu, 01 Jan 1970 00:00:00 GMT";
  EXPECT_EQ(evaluate_preconditions(h, true, v), precondition::proceed);
  h.if_match = {};
  EXPECT_EQ(evaluate_preconditions(h, true, v), precondition::precondition_failed);
  h.if_unmodified_since = "not a date";
  EXPECT_EQ(evaluate_preconditions(h, true, v), precondition::proceed) << "unparsable: ignored";
  h.if_unmodified_since = "Sun, 06 Nov 1994 08:49:37 GMT";
  EXPECT_EQ(evaluate_preconditions(h, true, v), precondition::proceed) << "equal is unmodified";
  // If-None-Match on a non-GET that matches: 412, and If-Modified-Since is not looked at.
  h.if_none_match = "W/\"abc\"";
  EXPECT_EQ(evaluate_preconditions(h, false, v), precondition::precondition_failed);
  EXPECT_EQ(evaluate_preconditions(h, true, v), precondition::not_modified);
  h.if_none_match = "\"other\"";
  h.if_modified_since = "Sun, 06 Nov 1994 08:49:37 GMT";
  EXPECT_EQ(evaluate_preconditions(h, true, v), precondition::proceed)
      << "If-Modified-Since is ignored when If-None-Match is present";
  h.if_none_match = {};
  EXPECT_EQ(evaluate_preconditions(h, true, v), precondition::not_modified);
  EXPECT_EQ(evaluate_preconditions(h, false, v), precondition::proceed) << "only for GET/HEAD";
  h.if_modified_since = "garbage";
  EXPECT_EQ(evaluate_preconditions(h, true, v), precondition::proceed);
  h.if_modified_since = "Sun, 06 Nov 1994 08:49:36 GMT";
  EXPECT_EQ(evaluate_preconditions(h, true, v), precondition::proceed) << "modified since";
}

TEST(EntityTagComparison, MadeTagsAreStrongQuotedHex) {
  const etag e = make_etag(0x10, 0, 0xabc);
  EXPECT_EQ(e.view(), "\"abc-10-0\"");
  EXPECT_TRUE(etag_list_matches(e.view(), e.view(), false));
  const etag big = make_etag(~0ull, -1, ~0ull);
  EXPECT_EQ(big.view(), "\"ffffffffffffffff-ffffffffffffffff-ffffffffffffffff\"");
}

}  // namespace
}  // namespace ns::http
