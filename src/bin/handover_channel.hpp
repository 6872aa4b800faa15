// SPDX-License-Identifier: MIT
#pragma once
// One hand-over record (handover/record.hpp) per message on a SOCK_SEQPACKET unix socket,
// with descriptors beside it (SCM_RIGHTS) and, on a socket with SO_PASSCRED, the sender's
// credentials as the kernel saw them (SCM_CREDENTIALS).

#include <sys/types.h>

#include <chrono>
#include <span>
#include <string>
#include <vector>

#include "handover/record.hpp"

namespace ns::serve {

/// receive_record's error when nothing came in time.
inline constexpr const char* no_answer = "no answer in time";

/// Sends @p r with @p fds. False with @p error on failure.
bool send_record(int sock, const handover::record& r, std::span<const int> fds, std::string& error);

struct received {
  handover::record rec;
  std::vector<int> fds;  ///< owned by the caller (close them)
  pid_t pid = 0;         ///< the sender, from SCM_CREDENTIALS (0: none attached)
  uid_t uid = 0;
  bool closed = false;  ///< the other end closed the channel (end of file)
};

/// Waits up to @p timeout for one message and decodes it. False with @p error on a timeout,
/// EOF, a truncated or malformed message, or bytes beyond one record (descriptors that came
/// with a refused message are closed).
bool receive_record(int sock, std::chrono::milliseconds timeout, received& out, std::string& error);

}  // namespace ns::serve
