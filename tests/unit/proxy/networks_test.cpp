// SPDX-License-Identifier: MIT
// Trusted networks (CIDR, IPv4 and IPv6) and the address helpers under them.
#include "proxy/networks.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>

namespace ns::proxy {
namespace {

endpoint ip(const char* text, std::uint16_t port = 0) {
  endpoint e;
  if (parse_ipv4(text, std::span(e.ip).first<4>())) {
    e.fam = family::v4;
  } else {
    EXPECT_TRUE(parse_ipv6(text, e.ip)) << text;
    e.fam = family::v6;
  }
  e.port = port;
  return e;
}

network net(const char* text) {
  std::string error;
  const auto n = parse_network(text, error);
  EXPECT_TRUE(n.has_value()) << text << ": " << error;
  return n.value_or(network{});
}

std::string refusal(const char* text) {
  std::string error;
  EXPECT_FALSE(parse_network(text, error).has_value()) << text;
  return error;
}

TEST(ProxyAddress, Ipv4IsStrictDottedDecimal) {
  std::array<std::uint8_t, 4> a{};
  EXPECT_TRUE(parse_ipv4("10.0.255.1", a));
  EXPECT_EQ(a, (std::array<std::uint8_t, 4>{10, 0, 255, 1}));
  for (const char* bad :
       {"", "1.2.3", "1.2.3.4.", "1.2.3.4 ", "01.2.3.4", "1.2.3.256", "1.2.3.1000", "1..3.4",
        "a.b.c.d", "1.2.3.-4", "0x1.2.3.4", "1.2.3.4/8"}) {
    EXPECT_FALSE(parse_ipv4(bad, a)) << bad;
  }
}

TEST(ProxyAddress, Ipv6LiteralsAndTheirBounds) {
  std::array<std::uint8_t, 16> a{};
  EXPECT_TRUE(parse_ipv6("::1", a));
  EXPECT_EQ(a[15], 1);
  EXPECT_TRUE(parse_ipv6("::ffff:192.0.2.1", a));
  EXPECT_TRUE(parse_ipv6("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", a));  // 45 bytes
  for (const char* bad : {"", ":", "1::2::3", "fe80::1%eth0", "[::1]", "::1 ",
                          "12345::", "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.2550"}) {
    EXPECT_FALSE(parse_ipv6(bad, a)) << bad;
  }
}

TEST(ProxyAddress, Ports) {
  std::uint16_t p = 1;
  EXPECT_TRUE(parse_port("0", p));
  EXPECT_EQ(p, 0);
  EXPECT_TRUE(parse_port("65535", p));
  EXPECT_EQ(p, 65535);
  for (const char* bad : {"", "65536", "00", "080", "-1", "1a", "999999"}) {
    EXPECT_FALSE(parse_port(bad, p)) << bad;
  }
}

TEST(ProxyAddress, TextLikeTheServersPeerNames) {
  EXPECT_EQ(to_string(ip("192.0.2.7", 51234)), "192.0.2.7:51234");
  EXPECT_EQ(to_string(ip("2001:db8::7", 443)), "[2001:db8::7]:443");
  EXPECT_EQ(to_string(endpoint{}), "");
  EXPECT_EQ(ip_text(ip("2001:db8::7")), "2001:db8::7");
  EXPECT_EQ(ip_text(endpoint{}), "");
}

TEST(ProxyAddress, FromSocketAddresses) {
  sockaddr_storage ss{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  v4->sin_family = AF_INET;
  v4->sin_port = htons(8443);
  inet_pton(AF_INET, "127.0.0.1", &v4->sin_addr);
  EXPECT_EQ(to_string(from_sockaddr(ss)), "127.0.0.1:8443");
  ss = {};
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  v6->sin6_family = AF_INET6;
  v6->sin6_port = htons(1);
  inet_pton(AF_INET6, "::1", &v6->sin6_addr);
  EXPECT_EQ(to_string(from_sockaddr(ss)), "[::1]:1");
  ss = {};
  ss.ss_family = AF_UNIX;
  EXPECT_EQ(from_sockaddr(ss).fam, family::none);
}

TEST(ProxyAddress, MappedIpv4IsUnmapped) {
  EXPECT_EQ(to_string(unmapped(ip("::ffff:10.1.2.3", 7))), "10.1.2.3:7");
  EXPECT_EQ(to_string(unmapped(ip("::fffe:10.1.2.3", 7))), "[::fffe:a01:203]:7");
  EXPECT_EQ(to_string(unmapped(ip("10.1.2.3", 7))), "10.1.2.3:7");
}

TEST(ProxyNetworks, Ipv4Blocks) {
  const network n = net("10.0.0.0/8");
  EXPECT_EQ(n.prefix, 8u);
  EXPECT_TRUE(contains(n, ip("10.0.0.0")));
  EXPECT_TRUE(contains(n, ip("10.255.255.255")));
  EXPECT_FALSE(contains(n, ip("11.0.0.0")));
  EXPECT_FALSE(contains(n, ip("9.255.255.255")));
  const network odd = net("172.16.0.0/12");  // a prefix inside a byte
  EXPECT_TRUE(contains(odd, ip("172.31.255.255")));
  EXPECT_FALSE(contains(odd, ip("172.32.0.0")));
  EXPECT_FALSE(contains(odd, ip("172.15.255.255")));
  const network host = net("127.0.0.1");
  EXPECT_EQ(host.prefix, 32u);
  EXPECT_TRUE(contains(host, ip("127.0.0.1")));
  EXPECT_FALSE(contains(host, ip("127.0.0.2")));
  const network all = net("0.0.0.0/0");
  EXPECT_TRUE(contains(all, ip("255.1.2.3")));
  EXPECT_FALSE(contains(all, ip("::1")));  // families never mix
}

TEST(ProxyNetworks, Ipv6BlocksAndMappedPeers) {
  const network n = net("fd00::/8");
  EXPECT_EQ(n.prefix, 8u);
  EXPECT_TRUE(contains(n, ip("fdff::1")));
  EXPECT_FALSE(contains(n, ip("fe00::1")));
  EXPECT_FALSE(contains(n, ip("10.0.0.1")));
  const network doc = net("2001:db8::/33");
  EXPECT_TRUE(contains(doc, ip("2001:db8:7fff::1")));
  EXPECT_FALSE(contains(doc, ip("2001:db8:8000::1")));
  EXPECT_EQ(net("::1").prefix, 128u);
  // An IPv4 client of a dual-stack listener is ::ffff:a.b.c.d: its IPv4 network trusts it.
  EXPECT_TRUE(contains(net("127.0.0.0/8"), ip("::ffff:127.0.0.1")));
  EXPECT_FALSE(contains(net("127.0.0.0/8"), ip("::ffff:128.0.0.1")));
}

TEST(ProxyNetworks, RefusalsSayWhatIsWrong) {
  EXPECT_EQ(refusal("10.1.0.0/8"),
            "'10.1.0.0/8' has bits set after its prefix (did you mean 10.0.0.0/8?)");
  EXPECT_EQ(refusal("fe80::1/10"),
            "'fe80::1/10' has bits set after its prefix (did you mean fe80::/10?)");
  EXPECT_EQ(refusal("10.0.0.0/33"), "'10.0.0.0/33' has a bad prefix length (0-32)");
  EXPECT_EQ(refusal("::/129"), "'::/129' has a bad prefix length (0-128)");
  for (const char* bad : {"10.0.0.0/", "10.0.0.0/08", "10.0.0.0/-1", "10.0.0.0/8/8"}) {
    EXPECT_NE(refusal(bad).find("bad prefix length"), std::string::npos) << bad;
  }
  for (const char* bad : {"", "example.com", "10.0.0/8", "/8", "10.0.0.0 /8", "*"}) {
    EXPECT_NE(refusal(bad).find("is not an IPv4 or IPv6 network"), std::string::npos) << bad;
  }
}

TEST(ProxyNetworks, AListMatchesAnyOfItsNetworks) {
  network_list l;
  EXPECT_TRUE(l.empty());
  EXPECT_FALSE(l.contains(ip("127.0.0.1")));
  std::string error;
  EXPECT_TRUE(l.add("127.0.0.0/8", error));
  EXPECT_TRUE(l.add("::1", error));
  EXPECT_FALSE(l.add("10.0.0.1/8", error));
  EXPECT_NE(error.find("10.0.0.1/8"), std::string::npos);
  EXPECT_EQ(l.size(), 2u);
  EXPECT_TRUE(l.contains(ip("127.9.9.9")));
  EXPECT_TRUE(l.contains(ip("::1")));
  EXPECT_FALSE(l.contains(ip("::2")));
  EXPECT_FALSE(l.contains(ip("10.0.0.1")));
  EXPECT_FALSE(l.contains(endpoint{}));
}

TEST(ProxyNetworks, CommaSeparatedLists) {
  std::vector<std::string> out;
  std::string error;
  EXPECT_TRUE(split_list("127.0.0.0/8, 10.0.0.0/8 ,\t::1", out, error));
  EXPECT_EQ(out, (std::vector<std::string>{"127.0.0.0/8", "10.0.0.0/8", "::1"}));
  EXPECT_TRUE(split_list("::1", out, error));
  EXPECT_EQ(out.size(), 1u);
  for (const char* bad : {"", " ", "a,,b", "a,", ",a"}) {
    EXPECT_FALSE(split_list(bad, out, error)) << bad;
    EXPECT_EQ(error, "empty entry in '" + std::string(bad) + "'");
  }
}

}  // namespace
}  // namespace ns::proxy
