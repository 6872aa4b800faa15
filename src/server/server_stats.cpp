// SPDX-License-Identifier: MIT
// Counters (network_server::stats) and the per-response log hook
// (application_methods::http_response_log_callback).
//
// Everything here runs on the loop thread and only adds to plain integers: no atomics, no
// allocation on the hot path (the peer's address is looked up once per connection, and only
// when a response log reads it). The response's status is read from the first bytes of its
// status line as they are queued, so it works the same for http_write, http_send_file and
// chunked responses without each of them reporting it.
#include <charconv>
#include <string_view>

#include "io/listener.hpp"
#include "server/server_impl.hpp"

namespace ns {

server_stats network_server::impl::stats() const noexcept {
  server_stats s = stats_;
  s.connections_open = stats_.connections_total - closed_connections_;
  const file_cache_stats cache = cache_stats();
  s.cache_hits = cache.hits;
  s.cache_misses = cache.misses;
  return s;
}

void network_server::impl::note_output(conn& k, std::span<const std::byte> plaintext) noexcept {
  if (k.phase != server::conn_phase::responding || k.ws) return;
  k.resp_bytes += plaintext.size();
  // "HTTP/1.1 200 …": the status of this response. An interim 1xx (100 Continue) is not the
  // final answer (RFC 9110 §15.2), so the next status line still counts.
  if (k.resp_status >= 200 || plaintext.size() < 12) return;
  const std::string_view text(reinterpret_cast<const char*>(plaintext.data()), 12);
  if (text.substr(0, 7) != "HTTP/1." || text[8] != ' ') return;
  int status = 0;
  const auto [p, ec] = std::from_chars(text.data() + 9, text.data() + 12, status);
  if (ec == std::errc() && p == text.data() + 12)
    k.resp_status = static_cast<std::uint16_t>(status);
}

namespace {
std::string_view conn_peer(void* context) {
  auto& k = *static_cast<server::connection*>(context);
  if (k.peer.empty() && k.fd >= 0) k.peer = io::peer_name(k.fd);
  return k.peer;
}
}  // namespace

void network_server::impl::note_response(client_num_t c, conn& k) {
  ++stats_.responses;
  http_response_info info;
  // 101 is final for an upgrade; another 1xx here was only an interim response.
  info.status = k.resp_status >= 200 || k.resp_status == 101 ? k.resp_status : 0;
  info.bytes = k.resp_bytes;
  info.peer = peer_address(&conn_peer, &k);
  k.resp_status = 0;
  k.resp_bytes = 0;
  app_.http_response_log_callback(c, k.parser.request(), info);
}

void network_server::impl::note_upgrade_response(client_num_t c, conn& k, int status,
                                                 std::size_t bytes) {
  // Upgrade answers (101, or 400/403/404/426 refusals) are queued by the WebSocket layer
  // outside the responding phase: report them here with what that layer knows.
  k.resp_status = static_cast<std::uint16_t>(status);
  k.resp_bytes = bytes;
  note_response(c, k);
}

void network_server::impl::note_error(std::string_view what) noexcept {
  // report_error's one-line reasons start with the layer that failed.
  if (what.starts_with("TLS truncated")) {
    ++stats_.errors.tls_truncated;
  } else if (what.starts_with("TLS handshake")) {
    ++stats_.errors.tls_handshake;
  } else if (what.starts_with("TLS")) {
    ++stats_.errors.tls;
  } else if (what.starts_with("recv") || what.starts_with("send")) {
    ++stats_.errors.socket;
  }
}

void network_server::impl::note_handshake(const conn& k) noexcept {
  ++stats_.tls_handshakes;
  if (k.tls && k.tls->resumed()) ++stats_.tls_resumptions;
}

void network_server::impl::note_closed(const conn& k) noexcept {
  if (k.kind == server::conn_kind::http) ++closed_connections_;
}

}  // namespace ns
