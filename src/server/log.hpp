// SPDX-License-Identifier: MIT
#pragma once
// Internal logging front end: NS_LOG(level, a, b, c) concatenates its arguments into one line
// only when the level is enabled, so disabled debug lines cost one comparison.

#include <sstream>
#include <string_view>

#include <network_server/log.hpp>

namespace ns::detail {

void log_line(log_level level, std::string_view line);

template <class... Parts>
void log_parts(log_level level, const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  log_line(level, out.str());
}

}  // namespace ns::detail

#define NS_LOG(level, ...)                                      \
  do {                                                          \
    if (static_cast<int>(level) >= static_cast<int>(::ns::get_log_level())) \
      ::ns::detail::log_parts(level, __VA_ARGS__);              \
  } while (0)
