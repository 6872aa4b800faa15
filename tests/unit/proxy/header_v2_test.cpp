// SPDX-License-Identifier: MIT
// The binary header (doc/proxy-protocol.txt §2.2): PROXY and LOCAL, IPv4 and IPv6, TLVs, the
// spec's fallback for UNSPEC/UDP/AF_UNIX, every fixed byte judged, the length bound; every case
// is also split at every offset and fed byte by byte.
#include <gtest/gtest.h>

#include "proxy_test_util.hpp"

namespace ns::proxy {
namespace {

using test::expect_same_at_every_split;
using test::tlv;
using test::v2;

const std::string payload = "\x16\x03\x01\x00\x05hello";

test::outcome feed_v2(const std::string& header, version_mode mode = version_mode::v2) {
  return expect_same_at_every_split(mode, header + payload);
}

error v2_error(const std::string& header) {
  const test::outcome o = feed_v2(header);
  EXPECT_EQ(o.st, status::error);
  return o.err;
}

TEST(ProxyV2, ProxyTcp4GivesTheClientsAddressAndConsumesOnlyTheHeader) {
  const std::string h = v2(0x21, 0x11, test::v4_block());
  ASSERT_EQ(h.size(), 28u);
  const test::outcome o = feed_v2(h);
  ASSERT_EQ(o.st, status::done);
  EXPECT_EQ(o.consumed, 28u);
  EXPECT_EQ(o.h.version, 2);
  EXPECT_FALSE(o.h.local);
  EXPECT_EQ(to_string(o.h.source), "192.0.2.7:51234");
  EXPECT_EQ(to_string(o.h.destination), "198.51.100.1:443");
}

TEST(ProxyV2, ProxyTcp6) {
  const test::outcome o = feed_v2(v2(0x21, 0x21, test::v6_block()));
  ASSERT_EQ(o.st, status::done);
  EXPECT_EQ(o.consumed, 16u + 36u);
  EXPECT_EQ(to_string(o.h.source), "[2001:db8::7]:40000");
  EXPECT_EQ(to_string(o.h.destination), "[2001:db8::1]:8443");
}

TEST(ProxyV2, TlvsAfterTheAddressesAreSkipped) {
  const std::string ssl = std::string("\x01\0\0\0\0", 5) + tlv(0x21, "TLSv1.3");
  const std::string tlvs = tlv(0x01, "h2") + tlv(0x04, "") + tlv(0x20, ssl) +
                           tlv(0x05, std::string(128, 'u')) + tlv(0xE0, "x");
  const std::string h = v2(0x21, 0x11, test::v4_block() + tlvs);
  const test::outcome o = feed_v2(h);
  ASSERT_EQ(o.st, status::done);
  EXPECT_EQ(o.consumed, h.size());
  EXPECT_EQ(to_string(o.h.source), "192.0.2.7:51234");
  const test::outcome six = feed_v2(v2(0x21, 0x21, test::v6_block() + tlv(0x02, "example.org")));
  ASSERT_EQ(six.st, status::done);
  EXPECT_EQ(to_string(six.h.source), "[2001:db8::7]:40000");
}

TEST(ProxyV2, MalformedTlvsAreRefused) {
  const std::string a = test::v4_block();
  EXPECT_EQ(v2_error(v2(0x21, 0x11, a + "\x01")), error::v2_bad_tlv);
  EXPECT_EQ(v2_error(v2(0x21, 0x11, a + std::string("\x01\x00", 2))), error::v2_bad_tlv);
  EXPECT_EQ(v2_error(v2(0x21, 0x11, a + std::string("\x01\x00\x03xy", 5))), error::v2_bad_tlv);
  EXPECT_EQ(v2_error(v2(0x21, 0x11, a + tlv(0x01, "h2") + "\x04")), error::v2_bad_tlv);
}

TEST(ProxyV2, LocalKeepsTheConnectionsOwnAddressesWhateverTheBlock) {
  // A health check of the proxy itself (§2.2): the length is honoured, the block ignored.
  for (const std::string& h : {v2(0x20, 0x00, ""), v2(0x20, 0x11, test::v4_block()),
                               v2(0x20, 0x00, "junk"), v2(0x20, 0x21, "")}) {
    const test::outcome o = feed_v2(h);
    ASSERT_EQ(o.st, status::done);
    EXPECT_TRUE(o.h.local);
    EXPECT_EQ(o.consumed, h.size());
    EXPECT_EQ(o.h.source.fam, family::none);
  }
}

TEST(ProxyV2, UnspecUdpAndUnixFallBackToTheConnectionsOwnAddresses) {
  // §2.2: a receiver that does not implement a valid combination falls back to UNSPEC.
  for (const std::string& h :
       {v2(0x21, 0x00, ""), v2(0x21, 0x10, test::v4_block()), v2(0x21, 0x12, test::v4_block()),
        v2(0x21, 0x22, test::v6_block()), v2(0x21, 0x31, std::string(216, 'u')),
        v2(0x21, 0x32, std::string(216, 'u') + "\x01\x02"), v2(0x21, 0x01, "")}) {
    const test::outcome o = feed_v2(h);
    ASSERT_EQ(o.st, status::done) << h.size();
    EXPECT_TRUE(o.h.local);
    EXPECT_EQ(o.consumed, h.size());
  }
}

TEST(ProxyV2, LengthMustHoldTheFamilysAddresses) {
  EXPECT_EQ(v2_error(v2(0x21, 0x11, test::v4_block().substr(0, 11))), error::v2_short_address);
  EXPECT_EQ(v2_error(v2(0x21, 0x21, test::v6_block().substr(0, 35))), error::v2_short_address);
  EXPECT_EQ(v2_error(v2(0x21, 0x12, "")), error::v2_short_address);
  EXPECT_EQ(v2_error(v2(0x21, 0x31, std::string(215, 'u'))), error::v2_short_address);
}

TEST(ProxyV2, TheLengthIsBoundedBeforeItsBytesArrive) {
  const test::outcome ok =
      feed_v2(v2(0x21, 0x11, test::v4_block() + tlv(0x04, std::string(2048 - 15, 'n'))));
  ASSERT_EQ(ok.st, status::done);
  EXPECT_EQ(ok.consumed, max_header_bytes);
  // 16 bytes announcing 2049 are refused at once: nothing more is buffered.
  parser p(version_mode::v2);
  const std::string head = v2(0x21, 0x11, std::string(2049, '\0')).substr(0, 16);
  EXPECT_EQ(p.feed(test::bytes(head.substr(0, 15))).st, status::need_more);
  EXPECT_EQ(p.feed(test::bytes(head.substr(15))).st, status::error);
  EXPECT_EQ(p.err(), error::v2_too_long);
  EXPECT_EQ(p.footprint(), 0u);
  EXPECT_EQ(v2_error(v2(0x21, 0x11, std::string(0xffff, '\0'))), error::v2_too_long);
}

TEST(ProxyV2, EveryFixedByteIsJudged) {
  EXPECT_EQ(v2_error(v2(0x11, 0x11, test::v4_block())), error::v2_bad_version);
  EXPECT_EQ(v2_error(v2(0x31, 0x11, test::v4_block())), error::v2_bad_version);
  EXPECT_EQ(v2_error(v2(0x01, 0x11, test::v4_block())), error::v2_bad_version);
  EXPECT_EQ(v2_error(v2(0x22, 0x11, test::v4_block())), error::v2_bad_command);
  EXPECT_EQ(v2_error(v2(0x2f, 0x11, test::v4_block())), error::v2_bad_command);
  EXPECT_EQ(v2_error(v2(0x21, 0x41, test::v4_block())), error::v2_bad_family);
  EXPECT_EQ(v2_error(v2(0x21, 0x13, test::v4_block())), error::v2_bad_family);
  EXPECT_EQ(v2_error(v2(0x20, 0xf0, "")), error::v2_bad_family);
  for (std::size_t i = 0; i < 12; ++i) {
    std::string h = v2(0x21, 0x11, test::v4_block());
    h[i] = static_cast<char>(h[i] ^ 0x20);
    EXPECT_EQ(v2_error(h), error::not_proxy) << "signature byte " << i;
  }
}

TEST(ProxyV2, ModesAcceptOnlyTheirVersion) {
  const std::string two = v2(0x21, 0x11, test::v4_block());
  const std::string one = "PROXY TCP4 192.0.2.7 198.51.100.1 51234 443\r\n";
  EXPECT_EQ(expect_same_at_every_split(version_mode::v1, two + payload).err, error::not_proxy);
  EXPECT_EQ(expect_same_at_every_split(version_mode::v2, one + payload).err, error::not_proxy);
  const test::outcome a2 = expect_same_at_every_split(version_mode::any, two + payload);
  const test::outcome a1 = expect_same_at_every_split(version_mode::any, one + payload);
  ASSERT_EQ(a2.st, status::done);
  ASSERT_EQ(a1.st, status::done);
  EXPECT_EQ(a2.h.version, 2);
  EXPECT_EQ(a1.h.version, 1);
  EXPECT_EQ(to_string(a1.h.source), to_string(a2.h.source));
  EXPECT_EQ(a2.consumed, two.size());
  EXPECT_EQ(a1.consumed, one.size());
  // A TLS ClientHello or an HTTP request without a header: refused on their first byte.
  for (const char* junk : {"\x16\x03\x01", "GET / HTTP/1.1\r\n"}) {
    parser p(version_mode::any);
    EXPECT_EQ(p.feed(test::bytes(std::string_view(junk, 1))).st, status::error) << junk;
    EXPECT_EQ(p.err(), error::not_proxy);
  }
}

TEST(ProxyParser, AfterTheEndFeedsConsumeNothing) {
  parser p(version_mode::any);
  const std::string h = v2(0x21, 0x11, test::v4_block());
  EXPECT_EQ(p.feed(test::bytes(h.substr(0, 5))).consumed, 5u);
  EXPECT_GT(p.footprint(), 0u);
  const result r = p.feed(test::bytes(h.substr(5) + payload));
  EXPECT_EQ(r.st, status::done);
  EXPECT_EQ(r.consumed, h.size() - 5);
  EXPECT_EQ(p.footprint(), 0u);  // the split buffer is freed with the header done
  EXPECT_EQ(p.buffered(), 0u);
  const result again = p.feed(test::bytes(payload));
  EXPECT_EQ(again.st, status::done);
  EXPECT_EQ(again.consumed, 0u);
  parser bad(version_mode::v2);
  EXPECT_EQ(bad.feed(test::bytes("X")).st, status::error);
  const result after = bad.feed(test::bytes(h));
  EXPECT_EQ(after.st, status::error);
  EXPECT_EQ(after.consumed, 0u);
  EXPECT_EQ(p.feed({}).consumed, 0u);
}

TEST(ProxyParser, EveryErrorHasItsOwnReason) {
  std::vector<std::string_view> seen;
  for (int e = 0; e <= static_cast<int>(error::v2_bad_tlv); ++e) {
    const std::string_view r = reason(static_cast<error>(e));
    EXPECT_FALSE(r.empty());
    for (std::string_view s : seen) EXPECT_NE(r, s);
    seen.push_back(r);
  }
}

}  // namespace
}  // namespace ns::proxy
