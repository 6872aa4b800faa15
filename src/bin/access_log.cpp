// SPDX-License-Identifier: MIT
#include "bin/access_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace ns::serve {
namespace {

constexpr std::size_t write_threshold = 64 * 1024;

// Request data is client-controlled: a quote, backslash or control byte could forge a log
// line or field, so those are written as \xHH (as Apache does since 2.0.46).
void append_escaped(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  for (const char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (u < 0x20 || u == 0x7f || ch == '"' || ch == '\\') {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += ch;
    }
  }
}

void append_field(std::string& out, std::string_view s) {
  out += '"';
  if (s.empty()) {
    out += '-';
  } else {
    append_escaped(out, s);
  }
  out += '"';
}

}  // namespace

void format_access_line(std::string& out, const http_request& request,
                        const http_response_info& info, std::int64_t unix_seconds,
                        access_log_format format) {
  // Host without the port: "ip:port" → ip, "[v6]:port" → v6.
  std::string_view host = info.peer;
  std::string_view port;
  if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  out += host.empty() ? std::string_view("-") : host;
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[40];
  std::strftime(stamp, sizeof(stamp), " - - [%d/%b/%Y:%H:%M:%S +0000] \"", &tm);
  out += stamp;
  append_escaped(out, request.method);
  out += ' ';
  append_escaped(out, request.target);
  out += " HTTP/";
  out += static_cast<char>('0' + request.version_major % 10);
  out += '.';
  out += static_cast<char>('0' + request.version_minor % 10);
  out += "\" ";
  if (info.status > 0) {
    out += std::to_string(info.status);
  } else {
    out += '-';
  }
  out += ' ';
  out += std::to_string(info.bytes);
  out += ' ';
  append_field(out, request.header("Referer"));
  out += ' ';
  append_field(out, request.header("User-Agent"));
  if (format == access_log_format::combined_port) {
    out += ' ';
    out += port.empty() ? std::string_view("-") : port;
  }
  out += '\n';
}

access_log::access_log(const std::string& target, std::size_t max_buffered,
                       access_log_format format)
    : max_buffered_(max_buffered), format_(format) {
  if (target == "-") {
    fd_ = STDOUT_FILENO;
  } else {
    fd_ = ::open(target.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      throw std::runtime_error("--access-log " + target + ": " + std::strerror(errno));
    }
    own_fd_ = true;
    path_ = target;
  }
  pending_.reserve(write_threshold * 2);
  writer_ = std::thread([this] { run(); });
}

access_log::~access_log() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  writer_.join();
  if (own_fd_) ::close(fd_);
  if (next_fd_ >= 0) ::close(next_fd_);
}

void access_log::log(const http_request& request, const http_response_info& info) {
  thread_local std::string line;  // per loop thread: no allocation once it has grown
  line.clear();
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  format_access_line(line, request, info,
                     std::chrono::duration_cast<std::chrono::seconds>(now).count(), format_);
  bool kick = false;
  {
    std::lock_guard lock(mutex_);
    if (pending_.size() + line.size() > max_buffered_) {
      ++dropped_;
      return;
    }
    pending_ += line;
    kick = pending_.size() >= write_threshold;
  }
  if (kick) wake_.notify_one();
}

std::string access_log::reopen() {
  if (!own_fd_) return {};  // stdout
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return "--access-log " + path_ + ": " + std::strerror(errno);
  {
    std::lock_guard lock(mutex_);
    if (next_fd_ >= 0) ::close(next_fd_);
    next_fd_ = fd;
  }
  wake_.notify_one();
  return {};
}

std::uint64_t access_log::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

void access_log::write_all(const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd_, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a full disk loses log lines, never the service
    off += static_cast<std::size_t>(n);
  }
}

void access_log::run() {
  std::string batch;
  batch.reserve(write_threshold * 2);
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, std::chrono::milliseconds(200),
                   [&] { return stop_ || next_fd_ >= 0 || pending_.size() >= write_threshold; });
    batch.swap(pending_);  // loops keep appending into the other buffer meanwhile
    const bool stopping = stop_;
    const int next = next_fd_;
    next_fd_ = -1;
    lock.unlock();
    write_all(batch);  // what was queued before the reopen goes to the old file
    if (next >= 0) {
      ::close(fd_);
      fd_ = next;
    }
    batch.clear();
    lock.lock();
    if (stopping && pending_.empty()) return;
  }
}

}  // namespace ns::serve
