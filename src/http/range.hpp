// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Range requests (RFC 9110 §14): parsing `Range: bytes=…` against a representation length,
/// and the framing of 206 responses (Content-Range, multipart/byteranges).

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ns::http {

/// At most this many range-specs are honoured; a longer list is ignored (→ 200, full body).
inline constexpr std::size_t max_ranges = 16;

/// Gaps smaller than this between two ranges are coalesced: a multipart part header costs
/// about as much (RFC 9110 §14.2 allows coalescing regardless of order).
inline constexpr std::uint64_t range_coalesce_gap = 80;

/// An inclusive byte range [first, last] inside the representation.
struct byte_range {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  [[nodiscard]] std::uint64_t length() const noexcept { return last - first + 1; }
};

/// What to answer.
enum class range_outcome {
  full,             ///< no usable Range (absent, other unit, malformed, too many): 200 + whole body
  partial,          ///< 206: `count` ranges, sorted and coalesced, each inside the file
  not_satisfiable,  ///< 416 with `Content-Range: bytes */<size>`
};

/// Result of parse_range(); no allocation.
struct range_set {
  range_outcome outcome = range_outcome::full;
  std::array<byte_range, max_ranges> ranges{};
  std::size_t count = 0;  ///< 1 → single-part 206; >1 → multipart/byteranges
};

/// Evaluate a Range header value against a representation of @p size bytes.
///
/// Malformed values are ignored as RFC 9110 §14.2 permits (→ full). Overlapping and nearby
/// ranges are merged, so abusive lists ("0-,0-,0-…") cost at most one copy of the file.
[[nodiscard]] range_set parse_range(std::string_view value, std::uint64_t size) noexcept;

/// Append a Content-Range value "bytes a-b/size" (RFC 9110 §14.4).
void append_content_range(std::string& out, byte_range r, std::uint64_t size);
/// Append the 416 Content-Range value "bytes */size".
void append_unsatisfied_range(std::string& out, std::uint64_t size);

/// A multipart boundary made of "ns" + 16 hex digits of @p seed (the caller mixes in something
/// unpredictable, e.g. a counter and the ETag), written into @p out (18 bytes).
inline constexpr std::size_t boundary_size = 18;
void make_boundary(std::uint64_t seed, char* out) noexcept;

/// Append the delimiter and headers that precede part @p r of a multipart/byteranges body.
void append_part_header(std::string& out, std::string_view boundary, std::string_view content_type,
                        byte_range r, std::uint64_t size);
/// Append the close delimiter ending a multipart/byteranges body.
void append_multipart_end(std::string& out, std::string_view boundary);
/// Total body length of the multipart/byteranges response for @p set (for Content-Length).
[[nodiscard]] std::uint64_t multipart_length(const range_set& set, std::string_view boundary,
                                             std::string_view content_type, std::uint64_t size);

}  // namespace ns::http
