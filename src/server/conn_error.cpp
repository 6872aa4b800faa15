// SPDX-License-Identifier: MIT
#include "server/conn_error.hpp"

namespace ns::server {

std::uint64_t& counter_of(error_counters& c, conn_error e) noexcept {
  switch (e) {
    case conn_error::tls_handshake:
      return c.tls_handshake;
    case conn_error::tls:
      return c.tls;
    case conn_error::tls_truncated:
      return c.tls_truncated;
    case conn_error::recv:
    case conn_error::send:
      return c.socket;
    case conn_error::handshake_timeout:
    case conn_error::idle_timeout:
    case conn_error::header_timeout:
    case conn_error::stalled_reader:
      return c.timeouts;
    case conn_error::bad_request:
      return c.http;
    case conn_error::websocket_protocol:
      return c.websocket;
    case conn_error::proxy_untrusted:
    case conn_error::proxy_header:
    case conn_error::proxy_truncated:
    case conn_error::proxy_timeout:
      return c.proxy;
  }
  return c.socket;  // GCOVR_EXCL_LINE: every enumerator is handled above
}

bool reported_to_application(conn_error e) noexcept {
  switch (e) {
    case conn_error::tls_handshake:
    case conn_error::tls:
    case conn_error::tls_truncated:
    case conn_error::recv:
    case conn_error::send:
    case conn_error::proxy_header:
    case conn_error::proxy_truncated:
      return true;
    default:
      return false;
  }
}

std::string describe(conn_error e, std::string_view detail) {
  std::string_view what;
  switch (e) {
    case conn_error::tls_handshake:
      what = "TLS handshake error";
      break;
    case conn_error::tls:
      what = "TLS error";
      break;
    case conn_error::tls_truncated:
      what = "TLS truncated";
      break;
    case conn_error::recv:
      what = "recv";
      break;
    case conn_error::send:
      what = "send";
      break;
    case conn_error::handshake_timeout:
      what = "handshake timeout";
      break;
    case conn_error::idle_timeout:
      what = "idle timeout";
      break;
    case conn_error::header_timeout:
      what = "header timeout";
      break;
    case conn_error::stalled_reader:
      what = "peer stopped reading";
      break;
    case conn_error::bad_request:
      what = "bad request";
      break;
    case conn_error::websocket_protocol:
      what = "WebSocket protocol error";
      break;
    case conn_error::proxy_untrusted:
      what = "PROXY header refused: not from a trusted network";
      break;
    case conn_error::proxy_header:
      what = "PROXY header error";
      break;
    case conn_error::proxy_truncated:
      what = "PROXY header truncated";
      break;
    case conn_error::proxy_timeout:
      what = "no PROXY header within the handshake timeout";
      break;
  }
  std::string line(what);
  if (!detail.empty()) line.append(": ").append(detail);
  return line;
}

}  // namespace ns::server
