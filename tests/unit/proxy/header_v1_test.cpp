// SPDX-License-Identifier: MIT
// The human-readable header (doc/proxy-protocol.txt §2.1): exact syntax, ranges, the 107-byte
// bound, CRLF only, UNKNOWN; every case is also split at every offset and fed byte by byte.
#include <gtest/gtest.h>

#include "proxy_test_util.hpp"

namespace ns::proxy {
namespace {

using test::expect_same_at_every_split;

constexpr std::string_view payload = "\x16\x03\x01\x00\x05hello";

test::outcome v1(std::string_view line) {
  return expect_same_at_every_split(version_mode::v1, std::string(line) + std::string(payload));
}

error v1_error(std::string_view line) {
  const test::outcome o = v1(line);
  EXPECT_EQ(o.st, status::error) << line;
  return o.err;
}

TEST(ProxyV1, Tcp4GivesTheClientsAddressAndConsumesOnlyTheLine) {
  const std::string line = "PROXY TCP4 192.0.2.7 198.51.100.1 51234 443\r\n";
  const test::outcome o = v1(line);
  ASSERT_EQ(o.st, status::done);
  EXPECT_EQ(o.consumed, line.size());
  EXPECT_EQ(o.h.version, 1);
  EXPECT_FALSE(o.h.local);
  EXPECT_EQ(to_string(o.h.source), "192.0.2.7:51234");
  EXPECT_EQ(to_string(o.h.destination), "198.51.100.1:443");
}

TEST(ProxyV1, Tcp6InCompressedAndFullForms) {
  test::outcome o = v1("PROXY TCP6 2001:db8::7 2001:db8::1 40000 8443\r\n");
  ASSERT_EQ(o.st, status::done);
  EXPECT_EQ(to_string(o.h.source), "[2001:db8::7]:40000");
  EXPECT_EQ(to_string(o.h.destination), "[2001:db8::1]:8443");
  // The longest TCP6 line of §2.1: 104 bytes.
  const std::string f = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  const std::string longest = "PROXY TCP6 " + f + " " + f + " 65535 65535\r\n";
  ASSERT_EQ(longest.size(), 104u);
  o = v1(longest);
  ASSERT_EQ(o.st, status::done);
  EXPECT_EQ(o.consumed, 104u);
  EXPECT_EQ(to_string(o.h.source), "[" + f + "]:65535");
  o = v1("PROXY TCP6 2001:0DB8:0000:0000:0000:0000:0000:0007 ::1 1 2\r\n");
  ASSERT_EQ(o.st, status::done);
  EXPECT_EQ(to_string(o.h.source), "[2001:db8::7]:1");
}

TEST(ProxyV1, RangeEdgesAreAccepted) {
  const test::outcome o = v1("PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n");
  ASSERT_EQ(o.st, status::done);
  EXPECT_EQ(to_string(o.h.source), "0.0.0.0:0");
  EXPECT_EQ(to_string(o.h.destination), "255.255.255.255:65535");
}

TEST(ProxyV1, UnknownKeepsTheConnectionsOwnAddresses) {
  test::outcome o = v1("PROXY UNKNOWN\r\n");
  ASSERT_EQ(o.st, status::done);
  EXPECT_TRUE(o.h.local);
  EXPECT_EQ(o.consumed, 15u);
  EXPECT_EQ(o.h.source.fam, family::none);
  // Whatever follows UNKNOWN is ignored (§2.1), up to the 107-byte worst case.
  const std::string f = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  const std::string worst = "PROXY UNKNOWN " + f + " " + f + " 65535 65535\r\n";
  ASSERT_EQ(worst.size(), 107u);
  o = v1(worst);
  ASSERT_EQ(o.st, status::done);
  EXPECT_TRUE(o.h.local);
  EXPECT_EQ(o.consumed, 107u);
  EXPECT_EQ(v1_error("PROXY UNKNOWNX\r\n"), error::v1_bad_line);
}

TEST(ProxyV1, MoreThan107BytesIsRefused) {
  const std::string f = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  EXPECT_EQ(v1_error("PROXY UNKNOWN " + f + " " + f + " 65535 655350\r\n"), error::v1_too_long);
  // Without a CR, 106 bytes are enough to know; 105 may still end in CRLF.
  const std::string x(106, 'x');
  parser p(version_mode::v1);
  const std::string first = "PROXY " + x.substr(0, 99);
  EXPECT_EQ(p.feed(test::bytes(first)).st, status::need_more);
  EXPECT_EQ(p.buffered(), 105u);
  EXPECT_EQ(p.feed(test::bytes("y")).st, status::error);
  EXPECT_EQ(p.err(), error::v1_too_long);
}

TEST(ProxyV1, AddressesAndPortsMustBeCanonical) {
  for (const char* line : {
           "PROXY TCP4 192.0.2.07 198.51.100.1 1 2\r\n",  // leading zero (octal elsewhere)
           "PROXY TCP4 256.0.2.7 198.51.100.1 1 2\r\n",
           "PROXY TCP4 192.0.2 198.51.100.1 1 2\r\n",
           "PROXY TCP4 192.0.2.7.1 198.51.100.1 1 2\r\n",
           "PROXY TCP4 192..2.7 198.51.100.1 1 2\r\n",
           "PROXY TCP4 192.0.2.7 198.51.100.1 65536 2\r\n",
           "PROXY TCP4 192.0.2.7 198.51.100.1 1 0443\r\n",
           "PROXY TCP4 192.0.2.7 198.51.100.1 +1 2\r\n",
           "PROXY TCP4 192.0.2.7 198.51.100.1 1 123456\r\n",
           "PROXY TCP4 ::1 198.51.100.1 1 2\r\n",  // family mismatch
           "PROXY TCP6 192.0.2.7 ::1 1 2\r\n",
           "PROXY TCP6 2001:db8::g ::1 1 2\r\n",
           "PROXY TCP6 2001:db8:::1 ::1 1 2\r\n",
           "PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n",
       }) {
    EXPECT_EQ(v1_error(line), error::v1_bad_address) << line;
  }
}

TEST(ProxyV1, FieldsAreSeparatedByExactlyOneSpace) {
  for (const char* line : {
           "PROXY TCP4  192.0.2.7 198.51.100.1 1 2\r\n",
           "PROXY TCP4 192.0.2.7 198.51.100.1 1 2 \r\n",
           "PROXY TCP4 192.0.2.7 198.51.100.1 1\r\n",
           "PROXY TCP4 192.0.2.7 198.51.100.1 1 2 3\r\n",
           "PROXY TCP5 192.0.2.7 198.51.100.1 1 2\r\n",
           "PROXY TCP4\r\n",
           "PROXY \r\n",
           "PROXY  TCP4 192.0.2.7 198.51.100.1 1 2\r\n",
       }) {
    EXPECT_EQ(v1_error(line), error::v1_bad_line) << line;
  }
}

TEST(ProxyV1, OnlyCrlfEndsTheLineAndOnlyPrintableAsciiIsInIt) {
  const std::string good = "PROXY TCP4 192.0.2.7 198.51.100.1 1 2";
  EXPECT_EQ(v1_error(good + "\n"), error::v1_bad_line);
  EXPECT_EQ(v1_error(good + "\rX\n"), error::v1_bad_line);
  EXPECT_EQ(v1_error(good + "\r\r\n"), error::v1_bad_line);
  EXPECT_EQ(v1_error("PROXY TCP4\t192.0.2.7 198.51.100.1 1 2\r\n"), error::v1_bad_line);
  EXPECT_EQ(v1_error(std::string("PROXY UNKNOWN \0\r\n", 17)), error::v1_bad_line);
  EXPECT_EQ(v1_error("PROXY UNKNOWN \x80\r\n"), error::v1_bad_line);
  EXPECT_EQ(v1_error("PROXY UNKNOWN \x7f\r\n"), error::v1_bad_line);
}

TEST(ProxyV1, AnythingElseIsRefusedAtItsFirstWrongByte) {
  for (const char* junk : {"GET / HTTP/1.1\r\n\r\n", " PROXY TCP4 1.2.3.4 1.2.3.4 1 2\r\n",
                           "proxy tcp4\r\n", "PROXYTCP4\r\n", "\x16\x03\x01\x02\x00"}) {
    EXPECT_EQ(v1_error(junk), error::not_proxy) << junk;
  }
  // A client that speaks first without a header is refused on the byte that tells, not after
  // a timeout.
  parser p(version_mode::v1);
  EXPECT_EQ(p.feed(test::bytes("PROX")).st, status::need_more);
  EXPECT_EQ(p.feed(test::bytes("I")).st, status::error);
  EXPECT_EQ(p.err(), error::not_proxy);
}

TEST(ProxyV1, IncompleteLinesWaitForMore) {
  for (std::string_view prefix :
       {"", "P", "PROXY", "PROXY TCP4 192.0.2.7 198.51.100.1 1 2", "PROXY UNKNOWN\r"}) {
    const test::outcome o = test::run(version_mode::v1, prefix, {});
    EXPECT_EQ(o.st, status::need_more) << prefix;
    EXPECT_EQ(o.consumed, prefix.size());
  }
}

}  // namespace
}  // namespace ns::proxy
