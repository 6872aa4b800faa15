// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Server side of the WebSocket opening handshake (RFC 6455 §4.2).

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <network_server/http_request.hpp>

#include "ws/deflate_negotiation.hpp"

namespace ns::ws {

/// Why an upgrade request was refused.
enum class handshake_error : std::uint8_t {
  none = 0,
  not_get,              ///< method is not GET (§4.2.1 item 1) → 400
  bad_http_version,     ///< below HTTP/1.1 → 400
  missing_host,         ///< no Host header (§4.2.1 item 2) → 400
  missing_upgrade,      ///< Upgrade lacks the "websocket" token (item 3) → 400
  missing_connection,   ///< Connection lacks the "Upgrade" token (item 4) → 400
  bad_key,              ///< Sec-WebSocket-Key is not base64 of 16 bytes (item 5) → 400
  unsupported_version,  ///< Sec-WebSocket-Version missing or not 13 (item 6) → 426 (§4.4)
  origin_not_allowed,   ///< Origin not in the allow-list (§4.2.2 item 4, §10.2) → 403
};

/// Static description of @p e.
[[nodiscard]] std::string_view reason(handshake_error e) noexcept;

/// What validate_upgrade() checks beyond the RFC's musts.
struct handshake_options {
  deflate_policy deflate;  ///< permessage-deflate acceptance
  /// Allowed Origin values (scheme://host[:port]). Empty: any origin, and requests without an
  /// Origin header (non-browser clients) are accepted. Non-empty: Origin must match one.
  std::span<const std::string_view> allowed_origins;
};

/// Outcome of validating an upgrade request.
struct handshake_result {
  int status = 400;  ///< 101 when the upgrade is acceptable, else 400, 403 or 426
  handshake_error err = handshake_error::none;
  std::array<char, 28> accept{};  ///< Sec-WebSocket-Accept value (valid when status == 101)
  /// Offered subprotocols in order of preference (views into the request; same lifetime).
  std::vector<std::string_view> subprotocols;
  deflate_negotiation deflate;  ///< negotiated permessage-deflate (deflate.params.enabled)

  [[nodiscard]] bool ok() const noexcept { return status == 101; }
  [[nodiscard]] std::string_view accept_key() const noexcept {
    return {accept.data(), accept.size()};
  }
};

/// Validates @p req as a WebSocket upgrade (RFC 6455 §4.2.1) and negotiates extensions.
[[nodiscard]] handshake_result validate_upgrade(const http_request& req,
                                                const handshake_options& opts = {});

/// Sec-WebSocket-Accept for @p key: base64(SHA-1(key + GUID)) (§4.2.2 item 5.4).
[[nodiscard]] std::array<char, 28> compute_accept(std::string_view key);

/// True if @p key is base64 of exactly 16 bytes (24 characters ending in "==").
[[nodiscard]] bool is_valid_key(std::string_view key) noexcept;

/// The complete "101 Switching Protocols" response for an ok() result. @p subprotocol, when not
/// empty, must be one of result.subprotocols (echoed in Sec-WebSocket-Protocol, §4.2.2).
[[nodiscard]] std::string build_accept_response(const handshake_result& result,
                                                std::string_view subprotocol = {});

/// The complete error response (400/403/426, with Sec-WebSocket-Version: 13 on 426) for a
/// failed result; it closes the connection (Connection: close).
[[nodiscard]] std::string build_reject_response(const handshake_result& result);

/// True if @p origin equals one of @p allowed (ASCII case-insensitive, whole string:
/// scheme://host[:port]). RFC 6454 serializes origins in lower case, so this is exact matching.
[[nodiscard]] bool origin_allowed(std::string_view origin,
                                  std::span<const std::string_view> allowed) noexcept;

}  // namespace ns::ws
