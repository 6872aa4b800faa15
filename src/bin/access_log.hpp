// SPDX-License-Identifier: MIT
#pragma once
// The access log: one line per response in the combined log format
//   host - - [10/Oct/2026:13:55:36 +0000] "GET /a.html HTTP/1.1" 200 2326 "referer" "agent"
// written without blocking the event loops. A loop formats its line and appends it to a shared
// in-memory buffer under a mutex held for a memcpy; a writer thread swaps the buffer out and
// writes it (at once when it passes 64 KiB, else at least every 200 ms). Disk stalls therefore
// stall only the writer; if the buffer reaches its bound meanwhile, lines are dropped and
// counted rather than making a loop wait. Behind a proxy the client's source port can be added
// as a last field (combined-port), e.g. to match a line with HAProxy's own log.

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include <network_server/application_methods.hpp>

namespace ns::serve {

/// What a line holds: the combined log format, or that followed by the client's source port.
enum class access_log_format { combined, combined_port };

class access_log {
 public:
  static constexpr std::size_t default_max_buffered = 4 * 1024 * 1024;
  /// Opens @p target for appending ("-": stdout). Throws std::runtime_error with one line.
  explicit access_log(const std::string& target, std::size_t max_buffered = default_max_buffered,
                      access_log_format format = access_log_format::combined);
  /// Writes what is buffered, then closes.
  ~access_log();
  access_log(const access_log&) = delete;
  access_log& operator=(const access_log&) = delete;

  /// Formats and queues one line. Called on loop threads; never blocks on I/O.
  void log(const http_request& request, const http_response_info& info);

  /// Opens the file again (after logrotate moved it; SIGHUP). Lines queued so far go to the old
  /// file. Returns an empty string, or the one-line reason (the old file stays in use).
  std::string reopen();

  /// Lines dropped because the buffer was full (the writer could not keep up).
  [[nodiscard]] std::uint64_t dropped() const;

 private:
  void run();
  void write_all(const std::string& data);

  int fd_ = -1;  // used by the writer thread only, once constructed
  bool own_fd_ = false;
  std::string path_;
  int next_fd_ = -1;  // guarded by mutex_: a reopened file, taken over by the writer
  std::size_t max_buffered_;
  access_log_format format_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::string pending_;  // guarded by mutex_
  std::uint64_t dropped_ = 0;
  bool stop_ = false;
  std::thread writer_;
};

/// Formats one combined-log-format line (with '\n') into @p out; with combined_port the
/// client's source port ('-' if unknown) follows the user agent. Exposed for tests.
void format_access_line(std::string& out, const http_request& request,
                        const http_response_info& info, std::int64_t unix_seconds,
                        access_log_format format = access_log_format::combined);

}  // namespace ns::serve
