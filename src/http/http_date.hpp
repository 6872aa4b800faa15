// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// HTTP-date (RFC 9110 §5.6.7): formatting as IMF-fixdate and parsing of all three forms.
/// Time is always passed in (seconds since the UNIX epoch, UTC): no clock inside.

#include <cstdint>
#include <optional>
#include <string_view>

namespace ns::http {

/// Length of an IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
inline constexpr std::size_t imf_fixdate_size = 29;

/// Write the IMF-fixdate of @p unix_seconds into @p out (exactly imf_fixdate_size bytes, no NUL).
void format_imf_fixdate(std::int64_t unix_seconds, char* out) noexcept;

/// Parse an HTTP-date in IMF-fixdate, obsolete RFC 850 or asctime form (RFC 9110 §5.6.7).
/// @return seconds since the epoch, or nullopt when @p text is not a valid date.
[[nodiscard]] std::optional<std::int64_t> parse_http_date(std::string_view text) noexcept;

/// The `Date` header value, reformatted at most once per second.
class http_date {
 public:
  /// IMF-fixdate of @p unix_seconds; the view is valid until the next call with another second.
  [[nodiscard]] std::string_view get(std::int64_t unix_seconds) noexcept {
    if (unix_seconds != last_) {
      format_imf_fixdate(unix_seconds, buf_);
      last_ = unix_seconds;
    }
    return {buf_, imf_fixdate_size};
  }

 private:
  char buf_[imf_fixdate_size] = {};
  std::int64_t last_ = INT64_MIN;
};

}  // namespace ns::http
