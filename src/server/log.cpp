// SPDX-License-Identifier: MIT
#include "server/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

namespace ns {
namespace {

std::atomic<log_level> g_level{log_level::info};
std::mutex g_sink_mutex;
std::function<void(log_level, std::string_view)> g_sink;

const char* level_name(log_level l) {
  switch (l) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
    case log_level::off: break;
  }
  return "off";
}

}  // namespace

void set_log_level(log_level level) noexcept { g_level.store(level, std::memory_order_relaxed); }
log_level get_log_level() noexcept { return g_level.load(std::memory_order_relaxed); }

void set_log_sink(std::function<void(log_level, std::string_view)> sink) {
  std::lock_guard lock(g_sink_mutex);
  g_sink = std::move(sink);
}

bool parse_log_level(std::string_view text, log_level& out) noexcept {
  for (auto l : {log_level::debug, log_level::info, log_level::warn, log_level::error,
                 log_level::off}) {
    if (text == level_name(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

namespace detail {

void log_line(log_level level, std::string_view line) {
  std::lock_guard lock(g_sink_mutex);
  if (g_sink) {
    g_sink(level, line);
    return;
  }
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
  std::fprintf(stderr, "%s.%03dZ %s %.*s\n", stamp, static_cast<int>(ms.count()), level_name(level),
               static_cast<int>(line.size()), line.data());
}

}  // namespace detail
}  // namespace ns
