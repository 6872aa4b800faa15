// SPDX-License-Identifier: MIT
// HTTP-date (RFC 9110 §5.6.7): the three accepted forms parse to the same instant, every
// deviation from their grammar is rejected (a recipient that cannot parse If-Modified-Since
// must ignore it, never guess), and IMF-fixdate formatting covers the whole range it can
// represent, clamping years outside 0000..9999.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "http/http_date.hpp"

namespace {

using ns::http::parse_http_date;

constexpr std::int64_t k_1994 = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT

std::string fmt(std::int64_t t) {
  char buf[ns::http::imf_fixdate_size];
  ns::http::format_imf_fixdate(t, buf);
  return std::string(buf, sizeof buf);
}

TEST(HttpDateForms, AllThreeFormsNameTheSameInstant) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), k_1994);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), k_1994);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), k_1994);
  EXPECT_EQ(parse_http_date("Sun Nov 06 08:49:37 1994"), k_1994) << "asctime with 2-digit day";
}

TEST(HttpDateForms, CalendarEdges) {
  EXPECT_EQ(parse_http_date("Thu, 29 Feb 2024 00:00:00 GMT"), 1709164800);
  EXPECT_EQ(parse_http_date("Tue, 29 Feb 2000 00:00:00 GMT"), 951782400) << "400-year leap";
  EXPECT_EQ(parse_http_date("Thu Feb 29 00:00:00 2024"), 1709164800);
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:60 GMT"), k_1994 + 23) << "leap second";
  EXPECT_EQ(parse_http_date("Sat, 01 Jan 0000 00:00:00 GMT"), -62167219200) << "year 0 exists";
  // RFC 850 two-digit years: 00..69 are 20xx, 70..99 are 19xx.
  EXPECT_EQ(parse_http_date("Monday, 01-Jan-01 00:00:00 GMT"), 978307200);
  EXPECT_EQ(parse_http_date("Thursday, 01-Jan-70 00:00:00 GMT"), 0);
}

class HttpDateRejects : public ::testing::TestWithParam<const char*> {};

TEST_P(HttpDateRejects, IsNotADate) {
  EXPECT_EQ(parse_http_date(GetParam()), std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(
    ImfFixdate, HttpDateRejects,
    ::testing::Values("Sun,06 Nov 1994 08:49:37 GMT",    // no space after the comma
                      "Sun, 6 Nov 1994 08:49:37 GMT",    // one-digit day
                      "Sun, 06-Nov 1994 08:49:37 GMT",   // wrong separator
                      "Sun, 06 Noc 1994 08:49:37 GMT",   // no such month
                      "Sun, 06 Nov 94 08:49:37 GMT",     // two-digit year
                      "Sun, 06 Nov 1994 08-49:37 GMT",   // bad time separator
                      "Sun, 06 Nov 1994 08:49-37 GMT",   //
                      "Sun, 06 Nov 1994 24:00:00 GMT",   // hour out of range
                      "Sun, 06 Nov 1994 08:60:00 GMT",   // minute out of range
                      "Sun, 06 Nov 1994 08:49:61 GMT",   // second out of range
                      "Sun, 06 Nov 1994 08:49:37 UTC",   // only GMT is allowed
                      "Sun, 06 Nov 1994 08:49:37 GMT ",  // trailing text
                      "Sun, 06 Nov 1994 08:4",           // truncated
                      "Sun, 06 Nov 19",                  // truncated year
                      "Sun, 31 Nov 1994 08:49:37 GMT",   // November has 30 days
                      "Sun, 00 Nov 1994 08:49:37 GMT",   // day 0
                      "Thu, 29 Feb 1900 00:00:00 GMT",   // 1900 is not a leap year
                      "Sun, 06 Nov 1994"));

INSTANTIATE_TEST_SUITE_P(
    Rfc850, HttpDateRejects,
    ::testing::Values("Sunday,06-Nov-94 08:49:37 GMT",     // no space
                      "Sunday, 06 Nov 94 08:49:37 GMT",    // spaces instead of dashes
                      "Sunday, 06-Nov 94 08:49:37 GMT",    //
                      "Sunday, 06-Xyz-94 08:49:37 GMT",    // no such month
                      "Sunday, 06-Nov-1994 08:49:37 GMT",  // four-digit year
                      "Sunday, 06-Nov-94 08:49:37",        // no zone
                      "Sunday, 06-Nov-94 08:49:37 GMTx",   // trailing text
                      "Sunday, 31-Apr-94 08:49:37 GMT",    // April has 30 days
                      "Sunday, 06-Nov-94 25:49:37 GMT"));  // hour out of range

INSTANTIATE_TEST_SUITE_P(
    Asctime, HttpDateRejects,
    ::testing::Values("", "Sun", "Sun Nov", "SunXNov  6 08:49:37 1994",
                      "Sun Xyz  6 08:49:37 1994",    // no such month
                      "Sun Nov-  6 08:49:37 1994",   // month not followed by a space
                      "Sun Nov 6 08:49:37 1994",     // one-digit day needs a second space
                      "Sun Nov  x 08:49:37 1994",    // day not a digit
                      "Sun Nov  6 08:49:37 94",      // two-digit year
                      "Sun Nov  6 08:49:37 1994 ",   // trailing text
                      "Sun Nov  6 08:49 1994",       // no seconds
                      "Sun Nov  6  08:49:37 1994",   // extra space
                      "Sun Feb 30 08:49:37 1994"));  // no such day

TEST(HttpDateFormat, EpochNeighbours) {
  EXPECT_EQ(fmt(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(fmt(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
  EXPECT_EQ(fmt(k_1994), "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(HttpDateFormat, RoundTripsThroughTheParser) {
  for (std::int64_t t : {std::int64_t{0}, k_1994, std::int64_t{951782400},
                         std::int64_t{-62167219200}, std::int64_t{253402300799}}) {
    EXPECT_EQ(parse_http_date(fmt(t)), t) << fmt(t);
  }
}

TEST(HttpDateFormat, YearsOutsideFourDigitsAreClamped) {
  // The day before 0000-01-01 (a Friday in year -1) keeps its day and month, year clamped.
  EXPECT_EQ(fmt(-62167219200 - 86400), "Fri, 31 Dec 0000 00:00:00 GMT");
  // 10000-01-01 is a Saturday; the year field cannot hold five digits.
  EXPECT_EQ(fmt(253402300800), "Sat, 01 Jan 9999 00:00:00 GMT");
}

TEST(HttpDateFormat, CachedValueChangesOnlyWithTheSecond) {
  ns::http::http_date d;
  const std::string_view a = d.get(k_1994);
  EXPECT_EQ(a, "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(d.get(k_1994).data(), a.data());
  EXPECT_EQ(d.get(k_1994 + 1), "Sun, 06 Nov 1994 08:49:38 GMT");
}

}  // namespace
