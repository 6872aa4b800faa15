// SPDX-License-Identifier: MIT
#pragma once
// Runs a child process (ns_serve) for integration tests and inspects it through /proc.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ns::test {

/// Credentials a child takes before exec (the test must be root to give them).
struct run_as {
  uid_t uid;
  gid_t gid;
};

class child_process {
 public:
  /// Starts @p argv[0] with the arguments; stdout and stderr go to files in a temp dir. With
  /// @p user the child drops its supplementary groups, then takes user->gid and user->uid
  /// before exec; a coverage build's counters of that child go to the temp dir (the build
  /// tree's are not the user's to write, and libgcov would say so on stderr).
  /// With @p inherit_fd >= 0 that descriptor is the child's fd 3 (e.g. a listening socket a
  /// program takes over, HAProxy's `bind fd@3`: no free-port race).
  explicit child_process(std::vector<std::string> argv, std::optional<run_as> user = {},
                         int inherit_fd = -1);
  ~child_process();  ///< kills (SIGKILL) and reaps the child if it still runs
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  /// Waits until stdout contains @p needle; returns the stdout text so far ("" on timeout/exit).
  std::string wait_for_output(const std::string& needle, std::chrono::milliseconds timeout);
  /// Sends @p sig and waits for exit; returns the exit status (or 128+signal), -1 on timeout.
  int stop(int sig, std::chrono::milliseconds timeout);
  /// Waits for the child to exit by itself; same returns as stop().
  int wait(std::chrono::milliseconds timeout);
  [[nodiscard]] std::string stdout_text() const;
  [[nodiscard]] std::string stderr_text() const;

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  std::string out_path_;
  std::string err_path_;
};

/// A TCP port on 127.0.0.1 that nothing listens on (bound to port 0 without SO_REUSEPORT,
/// then released); 0 if none could be had.
std::uint16_t free_port();

/// Number of open descriptors of @p pid (entries in /proc/PID/fd).
int open_fd_count(pid_t pid);
/// Polls open_fd_count(@p pid) until it is at most @p target or @p limit has passed (closes
/// are asynchronous: a server reaps its connections a little after the clients left).
/// Returns the last count seen.
int wait_fd_count_at_most(pid_t pid, int target, std::chrono::milliseconds limit);
/// open_fd_count(@p pid) once it has stayed the same for 100 ms (at most 2 s): a baseline
/// taken right after a client hung up could still count the server's end of it.
int settled_fd_count(pid_t pid);
/// Resident set size of @p pid in KiB (VmRSS).
long rss_kib(pid_t pid);

/// Path of a built binary (NS_BINARY_DIR/<relative>), for tests started by CTest.
std::string binary_path(const std::string& relative);
/// Path in the source tree (NS_SOURCE_DIR/<relative>).
std::string source_path(const std::string& relative);

/// A fresh temporary directory, removed (recursively) by the destructor.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }
  /// Writes @p content to path()/name (creating parent folders); returns the full path.
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

/// Starts ns_serve with @p args (plus --port 0) and returns once it prints its URL.
struct served {
  std::unique_ptr<child_process> process;
  std::uint16_t port = 0;
};
served start_ns_serve(const std::vector<std::string>& args);

}  // namespace ns::test
