// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The decision for serving one static file: method check, preconditions (304/412), If-Range,
/// Range (206/416), and the response head — in one call, without I/O. The server layer then
/// sends the body bytes it describes (from cached_file::body or by reading the file).

#include <cstdint>
#include <string>
#include <string_view>

#include <network_server/http_request.hpp>

#include "http/file_cache.hpp"
#include "http/range.hpp"

namespace ns::http {

/// What the server has to send after the head written by plan_static_response().
struct static_plan {
  int status = 0;            ///< 200, 206, 304, 405, 412 or 416
  bool send_body = false;    ///< false for HEAD, 304, 405, 412, 416 (their tiny bodies, if
                             ///< any, are already appended to the head buffer)
  std::uint64_t offset = 0;  ///< 200/206 single part: first file byte to send
  std::uint64_t length = 0;  ///< 200/206 single part: number of file bytes to send
  bool multipart = false;    ///< 206 with several parts: send, for each ranges.ranges[i],
                             ///< append_part_header(boundary…) then the slice; then
                             ///< append_multipart_end(boundary)
  range_set ranges;          ///< the parts when multipart
  char boundary[boundary_size] = {};
  [[nodiscard]] std::string_view boundary_view() const noexcept {
    return {boundary, boundary_size};
  }
};

/// Plan the response to @p req for file @p f and append its head to @p out.
/// @param imf_date the current `Date` value (http_date::get(now)).
/// @param keep_alive from the request (request().keep_alive) and the server's own policy.
/// @param boundary_seed something that varies per response (e.g. a counter), for multipart.
[[nodiscard]] static_plan plan_static_response(const ns::http_request& req, const cached_file& f,
                                               std::string_view imf_date, bool keep_alive,
                                               std::uint64_t boundary_seed, std::string& out);

}  // namespace ns::http
