// SPDX-License-Identifier: MIT
#pragma once
// A real redis-server for tests: started on a free loopback port with its own config file in a
// temp dir (no persistence), stopped by pid — also when the test fails (destructor) — and a
// synchronous hiredis client to look at it (PUBSUB, CLIENT LIST, PUBLISH of any bytes).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace ns::test {

class redis_server {
 public:
  /// Starts redis-server on @p port (0: a free one) with @p extra_config lines appended to the
  /// minimal config; returns once it answers PING. ok() says whether it did.
  explicit redis_server(std::string extra_config = "", std::uint16_t port = 0);
  ~redis_server();
  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  /// redis://127.0.0.1:PORT
  [[nodiscard]] std::string url() const;
  /// The server's log so far (why it did not start).
  [[nodiscard]] std::string log() const;

  /// SIGKILL and reap (a crash, not a shutdown: clients see their connections reset or EOF).
  void kill();
  /// Starts it again on the same port and config; true once it answers PING.
  bool start();
  /// Sends @p sig to the server (SIGSTOP: frozen — the kernel still accepts connections).
  void signal(int sig);

  /// Runs one command (arguments binary-safe) on a fresh connection, authenticated with
  /// @p password when given. The reply as text: a string or status as is, an error as
  /// "ERR:" + text, an integer in decimal, nil as "(nil)", an array's elements one per line.
  [[nodiscard]] std::string command(const std::vector<std::string>& args,
                                    const std::string& password = "") const;

 private:
  temp_dir dir_;
  std::string config_;
  std::uint16_t port_ = 0;
  std::unique_ptr<child_process> process_;
  bool ok_ = false;
};

}  // namespace ns::test
