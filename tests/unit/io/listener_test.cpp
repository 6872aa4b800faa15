// SPDX-License-Identifier: MIT
#include "io/listener.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
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

// A socket made by someone else (systemd, the process being upgraded) is used through a
// duplicate: the caller's descriptor stays its own.
TEST(IoListener, AdoptsAListeningSocketThroughADuplicate) {
  auto l = open_listener("127.0.0.1", 0, false);
  ASSERT_GE(l.fd, 0) << l.error;
  auto a = adopt_listener(l.fd);
  ASSERT_GE(a.fd, 0) << a.error;
  EXPECT_NE(a.fd, l.fd);
  EXPECT_EQ(a.port, l.port);
  EXPECT_EQ(fcntl(a.fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  close(a.fd);
  EXPECT_EQ(fcntl(l.fd, F_GETFD) >= 0, true) << "the caller's descriptor is left open";
  close(l.fd);
}

TEST(IoListener, AdoptRefusesWhatIsNotAListeningTcpSocket) {
  const int unbound = socket(AF_INET, SOCK_STREAM, 0);
  const int udp = socket(AF_INET, SOCK_DGRAM, 0);
  const int local = socket(AF_UNIX, SOCK_STREAM, 0);
  int pipe_fds[2] = {-1, -1};
  ASSERT_EQ(pipe(pipe_fds), 0);
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;  // an abstract address: nothing on disk
  ASSERT_EQ(bind(local, reinterpret_cast<sockaddr*>(&sun), sizeof(sa_family_t)), 0);
  ASSERT_EQ(listen(local, 1), 0);
  for (int fd : {unbound, udp, local, pipe_fds[0], -1}) {
    auto a = adopt_listener(fd);
    EXPECT_EQ(a.fd, -1) << fd;
    EXPECT_NE(a.error.find("is not a listening TCP socket"), std::string::npos) << a.error;
  }
  for (int fd : {unbound, udp, local, pipe_fds[0], pipe_fds[1]}) close(fd);
}

}  // namespace ns::io
