// SPDX-License-Identifier: MIT
#include "io/listener.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ns::io {

listen_result open_listener(const std::string& address, std::uint16_t port, bool reuse_port,
                            int backlog) {
  listen_result out;
  sockaddr_storage ss{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof(*v4);
  } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof(*v6);
  } else {
    out.error = "invalid bind address '" + address + "' (expected an IPv4 or IPv6 literal)";
    return out;
  }
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    out.error = std::string("socket: ") + std::strerror(errno);
    return out;
  }
  int one = 1;
  (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (reuse_port) (void)setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
    int err = errno;
    close(fd);
    out.error = "cannot bind " + address + ":" + std::to_string(port) + ": " + std::strerror(err);
    if (err == EADDRINUSE) out.error += " (is another server running on this port?)";
    return out;
  }
  // listen() re-runs the port conflict check: it fails (EADDRINUSE) when another socket bound
  // with SO_REUSEADDR started listening on the port since our bind.
  if (listen(fd, backlog) < 0) {
    int err = errno;
    close(fd);
    out.error = std::string("listen: ") + std::strerror(err);
    return out;
  }
  sockaddr_storage bound{};
  socklen_t blen = sizeof(bound);
  // getsockname on our own bound socket cannot fail.
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &blen) == 0) {  // GCOVR_EXCL_BR_LINE
    out.port = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                                : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  }
  out.fd = fd;
  return out;
}

bool listening_tcp_address(int fd, sockaddr_storage& local) {
  int type = 0;
  int listening = 0;
  socklen_t tlen = sizeof(type);
  socklen_t alen = sizeof(listening);
  socklen_t llen = sizeof(local);
  return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == 0 && type == SOCK_STREAM &&
         getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &alen) == 0 && listening != 0 &&
         getsockname(fd, reinterpret_cast<sockaddr*>(&local), &llen) == 0 &&
         (local.ss_family == AF_INET || local.ss_family == AF_INET6);
}

listen_result adopt_listener(int fd) {
  listen_result out;
  sockaddr_storage local{};
  if (!listening_tcp_address(fd, local)) {
    out.error = "descriptor " + std::to_string(fd) + " is not a listening TCP socket";
    return out;
  }
  out.fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (out.fd < 0) {
    out.error = std::string("dup: ") + std::strerror(errno);
    return out;
  }
  out.port = ntohs(local.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&local)->sin_port
                                              : reinterpret_cast<sockaddr_in6*>(&local)->sin6_port);
  return out;
}

std::string address_text(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
    return std::string(buf) + ":" + std::to_string(ntohs(a->sin_port));
  }
  const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
  inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
  return "[" + std::string(buf) + "]:" + std::to_string(ntohs(a->sin6_port));
}

std::string peer_name(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "?";
  return address_text(ss);
}

}  // namespace ns::io
