// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Validators and conditional requests (RFC 9110 §8.8, §13): ETag making and comparison,
/// If-Match / If-Unmodified-Since / If-None-Match / If-Modified-Since / If-Range evaluation.

#include <cstdint>
#include <string_view>

#include <network_server/http_request.hpp>

namespace ns::http {

/// A strong entity-tag, quotes included, stored inline (no allocation).
struct etag {
  char data[56] = {};
  std::uint8_t size = 0;
  [[nodiscard]] std::string_view view() const noexcept { return {data, size}; }
};

/// Strong ETag `"<inode>-<size>-<mtime ns>"` (hex): changes when the file is replaced or
/// rewritten. Not a content hash, so equal files on two servers get different tags.
[[nodiscard]] etag make_etag(std::uint64_t size, std::int64_t mtime_ns,
                             std::uint64_t inode) noexcept;

/// Whether @p list (an If-Match / If-None-Match value: `*` or a comma list of entity-tags)
/// matches @p current. @p weak selects weak comparison (RFC 9110 §8.8.3.2), otherwise strong.
/// A malformed list matches nothing.
[[nodiscard]] bool etag_list_matches(std::string_view list, std::string_view current,
                                     bool weak) noexcept;

/// The current validators of the selected representation.
struct validators {
  std::string_view etag;           ///< strong, with quotes; empty if none
  std::int64_t last_modified = 0;  ///< seconds since the epoch
};

/// The conditional header values of a request (empty = absent).
struct conditional_headers {
  std::string_view if_match;
  std::string_view if_unmodified_since;
  std::string_view if_none_match;
  std::string_view if_modified_since;
  std::string_view if_range;
  /// Pick the five fields from @p r (views into it).
  [[nodiscard]] static conditional_headers from(const ns::http_request& r) noexcept;
};

/// Outcome of the preconditions.
enum class precondition {
  proceed,              ///< serve normally (Range may still apply)
  not_modified,         ///< 304 (GET/HEAD with a matching If-None-Match or fresh If-Modified-Since)
  precondition_failed,  ///< 412
};

/// Evaluate in the order of RFC 9110 §13.2.2.
/// @param get_or_head the method is GET or HEAD (If-None-Match → 304 rather than 412 and
///        If-Modified-Since applies only then).
[[nodiscard]] precondition evaluate_preconditions(const conditional_headers& h, bool get_or_head,
                                                  const validators& v) noexcept;

/// RFC 9110 §13.1.5: true when a Range may be honoured (If-Range absent, or it holds a strong
/// ETag equal to the current one, or a date exactly equal to Last-Modified). Otherwise serve
/// the whole representation with 200.
[[nodiscard]] bool if_range_allows(std::string_view if_range, const validators& v) noexcept;

}  // namespace ns::http
