// SPDX-License-Identifier: MIT
#pragma once
// The live loops of the process, for a debugger. tools/gdb/ns.gdb walks this list from
// `ns::server::debug_loops` to find every network_server::impl (and through it every
// connection) in a program it knows nothing else about: attached to a running process or
// reading a core file, it cannot call into the program to ask.
//
// Cost: an entry is linked when a network_server is made and unlinked when it is destroyed,
// under a mutex; the loop writes its thread id once when it starts. The library never reads
// the list: nothing on the hot path touches it.

#include <sys/types.h>

#include <network_server/server.hpp>

namespace ns::server {

struct debug_entry {
  explicit debug_entry(const network_server::impl* loop) noexcept;
  ~debug_entry();
  debug_entry(const debug_entry&) = delete;
  debug_entry& operator=(const debug_entry&) = delete;

  const network_server::impl* loop;
  pid_t tid = 0;  ///< the thread running the loop (0 until start())
  debug_entry* next = nullptr;
};

/// Head of the list of live loops, newest first. Read by debuggers only.
extern debug_entry* debug_loops;

}  // namespace ns::server
