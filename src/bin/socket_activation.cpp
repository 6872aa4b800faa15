// SPDX-License-Identifier: MIT
#include "bin/socket_activation.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "io/listener.hpp"
#include "proxy/address.hpp"

namespace ns::serve {
namespace {

constexpr int first_fd = 3;  // SD_LISTEN_FDS_START

bool parse_number(const char* text, long max, long& out) {
  const std::string_view s(text);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size() && out >= 0 && out <= max;
}

}  // namespace

bool parse_listen_env(const char* pid, const char* fds, const char* names, pid_t self,
                      listen_env& out, std::string& error) {
  out = {};
  if (pid == nullptr || fds == nullptr) return true;
  long p = 0;
  long n = 0;
  if (!parse_number(pid, 1L << 30, p)) {
    error = "LISTEN_PID: '" + std::string(pid) + "' is not a process id";
    return false;
  }
  if (p != self) return true;  // meant for another process (e.g. our parent)
  if (!parse_number(fds, 1024, n)) {
    error = "LISTEN_FDS: '" + std::string(fds) + "' is not a number of descriptors (0-1024)";
    return false;
  }
  out.count = static_cast<int>(n);
  if (names == nullptr) return true;
  std::string_view rest(names);
  for (;;) {
    const auto colon = rest.find(':');
    out.names.emplace_back(rest.substr(0, colon));
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  if (static_cast<long>(out.names.size()) != n) {
    error = "LISTEN_FDNAMES names " + std::to_string(out.names.size()) +
            " descriptor(s), LISTEN_FDS says " + std::to_string(n);
    return false;
  }
  return true;
}

bool listener_matches(int fd, const std::string& bind, std::uint16_t port, const std::string& what,
                      std::string& error) {
  sockaddr_storage local{};
  if (!io::listening_tcp_address(fd, local)) {
    error = what + " is not a listening TCP socket";
    return false;
  }
  // The same address and port as --bind/--port: the inherited socket stands in for the one
  // ns_serve would have bound, so a unit file and the flags cannot silently disagree.
  const proxy::endpoint have = proxy::from_sockaddr(local);
  proxy::endpoint want;
  if (proxy::parse_ipv4(bind, std::span<std::uint8_t, 4>(want.ip.data(), 4))) {
    want.fam = proxy::family::v4;
  } else if (proxy::parse_ipv6(bind, std::span<std::uint8_t, 16>(want.ip))) {
    want.fam = proxy::family::v6;
  }
  const bool same = want.fam != proxy::family::none && want.fam == have.fam && want.ip == have.ip &&
                    (port == 0 || port == have.port);
  if (!same) {
    error = what + " listens on " + io::address_text(local) + ", not on --bind " + bind +
            " --port " + std::to_string(port);
    return false;
  }
  return true;
}

bool take_activated_listeners(const std::string& bind, std::uint16_t port, std::vector<int>& fds,
                              std::string& error) {
  fds.clear();
  listen_env env;
  const bool ok = parse_listen_env(std::getenv("LISTEN_PID"), std::getenv("LISTEN_FDS"),
                                   std::getenv("LISTEN_FDNAMES"), ::getpid(), env, error);
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  if (!ok) return false;
  for (int i = 0; i < env.count; ++i) {
    const int fd = first_fd + i;
    std::string what = "inherited descriptor " + std::to_string(fd);
    if (!env.names.empty()) what += " (" + env.names[static_cast<std::size_t>(i)] + ")";
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 || !listener_matches(fd, bind, port, what, error)) {
      if (error.empty()) error = what + ": " + std::strerror(errno);
      fds.clear();
      return false;
    }
    fds.push_back(fd);
  }
  return true;
}

}  // namespace ns::serve
