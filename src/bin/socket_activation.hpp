// SPDX-License-Identifier: MIT
#pragma once
// systemd socket activation (sd_listen_fds(3) semantics, without libsystemd): the service
// manager binds the listening sockets and passes them as descriptors 3, 4, … with
// LISTEN_FDS=n, LISTEN_PID=<our pid> and optionally LISTEN_FDNAMES=a:b:…

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ns::serve {

/// What the LISTEN_* variables say (inherited descriptors are 3 … 3 + count - 1).
struct listen_env {
  int count = 0;                   ///< 0: not started by socket activation (or not for us)
  std::vector<std::string> names;  ///< LISTEN_FDNAMES split at ':'; empty when not given
};

/// Parses the values of LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES (nullptr: unset) for the
/// process @p self. As sd_listen_fds: no LISTEN_PID, or another process's, means none for us
/// (count 0, not an error). Returns false with @p error on a malformed value, or names that do
/// not match the count.
bool parse_listen_env(const char* pid, const char* fds, const char* names, pid_t self,
                      listen_env& out, std::string& error);

/// Reads and unsets LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES (so that a program started by
/// us does not take our sockets for its own), marks the descriptors close-on-exec and checks
/// that each is a listening TCP stream socket whose local address is @p bind : @p port (port 0:
/// any port on @p bind). Returns false with a one-line @p error otherwise; @p fds is empty
/// when the process was not socket-activated.
bool take_activated_listeners(const std::string& bind, std::uint16_t port, std::vector<int>& fds,
                              std::string& error);

/// Checks that @p fd is a listening TCP socket on @p bind : @p port (0: any); @p what names it
/// in @p error.
bool listener_matches(int fd, const std::string& bind, std::uint16_t port, const std::string& what,
                      std::string& error);

}  // namespace ns::serve
