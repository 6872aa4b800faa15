// SPDX-License-Identifier: MIT
#include "io/listener.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

namespace ns::io {

TEST(IoListener, BindsAnEphemeralPortAndReportsIt) {
  auto l = open_listener("127.0.0.1", 0, false);
  ASSERT_GE(l.fd, 0) << l.error;
  EXPECT_NE(l.port, 0);
  close(l.fd);
}

TEST(IoListener, BusyPortIsAOneLineError) {
  auto a = open_listener("127.0.0.1", 0, false);
  ASSERT_GE(a.fd, 0);
  auto b = open_listener("127.0.0.1", a.port, false);
  EXPECT_EQ(b.fd, -1);
  EXPECT_NE(b.error.find("Address already in use"), std::string::npos) << b.error;
  EXPECT_EQ(b.error.find('\n'), std::string::npos);
  close(a.fd);
}

TEST(IoListener, InvalidAddressIsRefused) {
  auto l = open_listener("not-an-ip", 0, false);
  EXPECT_EQ(l.fd, -1);
  EXPECT_NE(l.error.find("invalid bind address"), std::string::npos);
}

TEST(IoListener, Ipv6LoopbackWorks) {
  auto l = open_listener("::1", 0, false);
  if (l.fd < 0) GTEST_SKIP() << "no IPv6 loopback: " << l.error;
  EXPECT_NE(l.port, 0);
  close(l.fd);
}

}  // namespace ns::io
