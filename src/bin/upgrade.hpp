// SPDX-License-Identifier: MIT
#pragma once
// `kill -USR2`: a running ns_serve (old) hands its listening sockets to a new one.
//
//  old                                         new (old's child)
//  run BINARY ARGS --check-config  ── exit 0 ─▶
//  socketpair (SEQPACKET), SO_PASSCRED
//  fork + exec BINARY ARGS, NS_SERVE_HANDOVER_FD=n ─▶ reads and unsets it
//                                   ◀── hello  (the kernel attaches its pid and uid)
//  checks pid == child, uid == ours
//  listeners + every listening fd  ──────────▶ checks each is on --bind/--port, starts its
//                                              loops on them
//                                   ◀── ready
//  drains (network_server::drain), moving live
//  connections over the same channel; once no
//  server of it accepts: released ───────────▶ recheck_accept() on every server (a wake-up
//                                              the old accept took along is not lost:
//                                              network_server::recheck_accept); see
//                                              connection_handover.hpp
//
// Any failure or silence beyond the timeout on the old side: the child is killed and reaped,
// the old process logs one line and keeps serving.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <network_server/network_server.hpp>

namespace ns::serve {

/// The environment variable that gives the new process its end of the channel.
inline constexpr const char* handover_env = "NS_SERVE_HANDOVER_FD";

struct upgrade_plan {
  std::string binary;             ///< --upgrade-binary, or what /proc/self/exe was at start
  std::vector<std::string> args;  ///< our own arguments, argv[1..]
  std::chrono::milliseconds timeout{10'000};
};

/// Old side: runs the check, starts the new process and hands it @p listeners. True once it
/// confirmed (@p successor = its pid, @p channel our end, for release_listeners); false with
/// @p why (one line) when the old process must keep serving.
bool hand_over(const upgrade_plan& plan, std::span<const int> listeners, pid_t& successor,
               int& channel, std::string& why);

/// New side: when started by hand_over (the variable is set: it is unset here), says hello and
/// receives the listening sockets, each checked to be a listening TCP socket on @p bind :
/// @p port. @p channel is -1 (and @p fds empty) when not started by an upgrade. On failure
/// returns false with @p error, after telling the old process why.
bool receive_listeners(const std::string& bind, std::uint16_t port, int& channel,
                       std::vector<int>& fds, std::string& error);

/// New side: tells the old process that @p count listeners are being accepted on.
void confirm_ready(int channel, std::size_t count);

}  // namespace ns::serve
