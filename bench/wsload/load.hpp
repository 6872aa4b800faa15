// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// wsload's modes (echo, storm, broadcast, idle) and their shared measurement.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "client.hpp"

namespace ns::bench {

/// Command line of wsload.
struct load_options {
  std::string mode = "echo";  ///< echo | storm | broadcast | idle | fanout
  client_config client;
  int conns = 100;         ///< echo/storm/idle: connections; broadcast: receivers
  std::size_t size = 64;   ///< message payload bytes
  bool text = false;       ///< text (compressible) instead of binary (random) messages
  bool deflate = false;    ///< offer permessage-deflate
  double duration = 10;    ///< measured seconds (echo, storm, broadcast)
  double hold = 0;         ///< idle: seconds to hold the connections (0: until SIGTERM)
  int parallel = 64;       ///< connections being set up at once
  int server_pid = 0;      ///< read this process's CPU time / RSS around the measurement
  std::string ready_file;  ///< idle: written (JSON) when every connection is open
  std::string label;       ///< copied into the JSON result
  // fanout
  std::vector<std::uint16_t> ports;  ///< the instances (connections spread round-robin)
  int publishers = 2;                ///< connections that also publish (spread likewise)
  double rate = 10;                  ///< messages per second per publisher
  bool sio = false;                  ///< Socket.IO over Engine.IO framing instead of /ws/chat
  std::vector<int> server_pids;      ///< summed: every instance's CPU time
  int redis_pid = 0;                 ///< the broker's CPU time, reported on its own
};

/// Server-side figures read from /proc/PID.
struct proc_sample {
  double cpu_s = 0;  ///< utime + stime
  std::uint64_t rss_kb = 0;
};
proc_sample sample_proc(int pid);

/// Runs the mode and prints one JSON line to stdout. Returns the process exit status.
int run_load(const load_options& opts, SSL_CTX* ctx);

}  // namespace ns::bench
