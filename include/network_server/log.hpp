// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The library's error log. One line per event, written to stderr unless the application installs
/// its own sink. Thread-safe.

#include <functional>
#include <string_view>

namespace ns {

enum class log_level { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

/// Lines below @p level are dropped (default: info).
void set_log_level(log_level level) noexcept;
[[nodiscard]] log_level get_log_level() noexcept;

/// Replaces the sink (default: "ISO-time LEVEL message\n" on stderr). Pass {} to restore it.
void set_log_sink(std::function<void(log_level, std::string_view)> sink);

/// Parses "debug", "info", "warn", "error", "off"; returns false on anything else.
bool parse_log_level(std::string_view text, log_level& out) noexcept;

}  // namespace ns
