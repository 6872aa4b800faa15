// SPDX-License-Identifier: MIT
#pragma once
// Why a connection ended badly, as a type: the error path counts, logs and reports from the
// value, so counters (and, later, metric labels) never depend on the wording of a log line.

#include <cstdint>
#include <string>
#include <string_view>

#include <network_server/log.hpp>
#include <network_server/stats.hpp>

namespace ns::server {

enum class conn_error : std::uint8_t {
  tls_handshake,       ///< the TLS handshake failed (detail: OpenSSL's reason)
  tls,                 ///< a TLS error after the handshake (bad record, alert)
  tls_truncated,       ///< TCP closed without close_notify (RFC 8446 §6.1)
  recv,                ///< recv failed (detail: errno text)
  send,                ///< send failed (detail: errno text)
  handshake_timeout,   ///< no complete TLS handshake within handshake_timeout
  idle_timeout,        ///< nothing received (or, sending, nothing taken) within idle_timeout
  header_timeout,      ///< a request head not complete within header_timeout
  stalled_reader,      ///< a WebSocket peer took none of its queued output within idle_timeout
  bad_request,         ///< the server answered a request with its own 4xx/5xx
  websocket_protocol,  ///< a WebSocket protocol violation (close 1002/1007/1009 …)
  proxy_untrusted,     ///< a PROXY listener's peer outside the trusted networks
  proxy_header,        ///< a malformed PROXY header (detail: the parser's reason)
  proxy_truncated,     ///< the peer closed before a complete PROXY header
  proxy_timeout,       ///< no complete PROXY header within handshake_timeout
};

/// The counter of server_stats::errors that @p e adds to.
[[nodiscard]] std::uint64_t& counter_of(error_counters& c, conn_error e) noexcept;

/// Whether connection_error_callback hears of @p e (transport and TLS failures do; timeouts
/// and protocol errors the server answered itself do not).
[[nodiscard]] bool reported_to_application(conn_error e) noexcept;

/// The one-line description: "TLS handshake error: <detail>", "recv: <detail>", …
[[nodiscard]] std::string describe(conn_error e, std::string_view detail);

}  // namespace ns::server
