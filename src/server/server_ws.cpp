// SPDX-License-Identifier: MIT
// WebSocket in the server: the upgrade (RFC 6455 §4.2), bytes in → ws::connection →
// websocket_read_callback, protocol output (pongs, close frames) → TLS, pings on idle, the close
// handshake and its timeout (§7.1.1).
//
// After the 101 every plaintext byte of the connection belongs to the ws::connection, including
// bytes that arrived in the same read as the upgrade request. The HTTP parser is not used again.
#include <algorithm>
#include <cstdio>
#include <string>

#include "io/listener.hpp"
#include "server/log.hpp"
#include "server/server_impl.hpp"
#include "ws/handshake.hpp"

namespace ns {
namespace {

// True if the comma-separated header value @p v has the token @p tok (ASCII case-insensitive).
bool has_token(std::string_view v, std::string_view tok) {
  while (!v.empty()) {
    const std::size_t comma = v.find(',');
    std::string_view t = v.substr(0, comma);
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    if (t.size() == tok.size() && std::equal(t.begin(), t.end(), tok.begin(), [](char a, char b) {
          return (a >= 'A' && a <= 'Z' ? a + 32 : a) == (b >= 'A' && b <= 'Z' ? b + 32 : b);
        })) {
      return true;
    }
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return false;
}

const char* phrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

}  // namespace

void network_server::impl::ws_init() {
  if (ws_.ready) return;
  ws_.ready = true;
  for (const std::string& o : config_.websocket.allowed_origins) ws_.origins.emplace_back(o);
  if (config_.websocket.deflate == ws_deflate_mode::shared) {
    // One compressor for the loop: with no context takeover its history is reset after every
    // message, so any connection (and any broadcast) can use it (RFC 7692 §7.1.1.1).
    const ws::deflate_options d{config_.websocket.deflate_level, 8,
                                config_.websocket.deflate_threshold};
    ws_.compressor = std::make_unique<ws::deflater>(15, true, d);
  }
}

void network_server::impl::ws_reject(client_num_t c, conn& k, int status, std::string_view extra) {
  char buf[256];
  const int n = std::snprintf(buf, sizeof(buf),
                              "HTTP/1.1 %d %s\r\nServer: network_server\r\nContent-Length: 0\r\n"
                              "%.*sConnection: close\r\n\r\n",
                              status, phrase(status), static_cast<int>(extra.size()), extra.data());
  note_upgrade_response(c, k, status, static_cast<std::size_t>(n));
  ws_queue(c, k, std::as_bytes(std::span(buf, static_cast<std::size_t>(n))));
  k.out.mark(server::write_kind::internal);
  close_graceful(c, k);
}

void network_server::impl::ws_on_upgrade(client_num_t c, conn& k, std::span<const std::byte> rest) {
  const http_request& req = k.parser.request();
  const auto slot = static_cast<std::uint32_t>(c);
  if (!has_token(req.header("Upgrade"), "websocket")) {
    if (req.method == "CONNECT") {
      answer_error(c, k, 501);  // no tunnelling
      return;
    }
    // Another protocol (h2c, …): RFC 9110 §7.8 lets a server ignore Upgrade, so the request is
    // answered as a plain one. The connection closes after that response: the parser stopped
    // at the upgrade and what the client sends next may already be in the other protocol.
    k.keep_alive = false;
    set_phase(slot, k, server::conn_phase::responding);
    app_.http_read_callback(req, c);
    return;
  }
  ws_init();
  ws::handshake_options ho;
  ho.deflate.enabled = config_.websocket.deflate != ws_deflate_mode::off;
  ho.deflate.shared_compressor = config_.websocket.deflate == ws_deflate_mode::shared;
  ho.allowed_origins = ws_.origins;
  const ws::handshake_result hs = ws::validate_upgrade(req, ho);
  if (!hs.ok()) {
    NS_LOG(log_level::info, io::peer_name(k.fd), ": WebSocket upgrade refused (",
           ws::reason(hs.err), "); answering ", hs.status);
    const std::string resp = ws::build_reject_response(hs);
    note_upgrade_response(c, k, hs.status, resp.size());
    ws_queue(c, k, std::as_bytes(std::span(resp.data(), resp.size())));
    k.out.mark(server::write_kind::internal);
    close_graceful(c, k);
    return;
  }
  ws_accept_decision d = app_.websocket_upgrade_callback(req, c);
  if (k.closing || k.close_after_flush) return;  // the application closed it meanwhile
  if (!d.accept) {
    ws_reject(c, k, d.reject_status >= 400 && d.reject_status <= 599 ? d.reject_status : 404);
    return;
  }
  if (!d.subprotocol.empty() && std::find(hs.subprotocols.begin(), hs.subprotocols.end(),
                                          d.subprotocol) == hs.subprotocols.end()) {
    // §4.2.2: the server may only select one of the client's offers.
    NS_LOG(log_level::warn, "websocket_upgrade_callback chose subprotocol '", d.subprotocol,
           "' that the client did not offer; none is confirmed");
    d.subprotocol.clear();
  }
  const std::string resp = ws::build_accept_response(hs, d.subprotocol);
  if (!ws_queue(c, k, std::as_bytes(std::span(resp.data(), resp.size())))) {
    close_graceful(c, k);
    return;
  }
  k.out.mark(server::write_kind::internal);
  note_upgrade_response(c, k, 101, resp.size());  // access log (server_stats.cpp)

  ws::connection_options o;
  o.limits = config_.ws;
  o.deflate = hs.deflate.params;
  o.compression = {config_.websocket.deflate_level, 8, config_.websocket.deflate_threshold};
  // The loop's compressor works with a 2^15 window; a client that asked for a smaller one gets
  // a per-connection compressor (still reset after every message).
  if (ws_.compressor && o.deflate.enabled && o.deflate.server_no_context_takeover &&
      o.deflate.server_max_window_bits >= ws_.compressor->window_bits()) {
    o.shared_compressor = ws_.compressor.get();
  }
  k.ws = std::make_unique<server::ws_state>(o);
  NS_LOG(log_level::debug, io::peer_name(k.fd), ": WebSocket open ", req.target,
         o.deflate.enabled ? (o.shared_compressor ? " (deflate, shared)" : " (deflate)") : "");
  set_phase(slot, k, server::conn_phase::websocket);
  app_.websocket_open_callback(c);
  if (!rest.empty() && !k.closing && !k.close_after_flush) ws_on_plaintext(c, k, rest);
}

void network_server::impl::ws_on_plaintext(client_num_t c, conn& k,
                                           std::span<const std::byte> bytes) {
  server::ws_state& w = *k.ws;
  if (k.closing || k.close_after_flush || w.proto.state() == ws::connection_state::closed ||
      w.proto.state() == ws::connection_state::failed) {
    return;  // after the close handshake nothing more is read (§7.1.1)
  }
  if (k.phase == server::conn_phase::websocket) {
    // Anything received proves the peer alive: restart the ping / idle clock.
    w.ping_outstanding = false;
    set_phase(static_cast<std::uint32_t>(c), k, server::conn_phase::websocket);
  }
  std::span<const std::byte> in = bytes;
  while (!k.closing && !k.close_after_flush) {
    const ws::feed_result r = w.proto.feed(in);
    in = in.subspan(r.consumed);
    const ws::event& ev = r.ev;
    switch (ev.type) {
      case ws::event_type::message:
        ++stats_.ws_messages_in;
        app_.websocket_read_callback(
            ev.data, ev.op == ws::opcode::text ? ws_message_type::text : ws_message_type::binary, c,
            false);
        break;
      case ws::event_type::close:
        w.close_code = ev.code;
        break;
      case ws::event_type::failed:
        w.close_code = ev.code;
        NS_LOG(log_level::info, io::peer_name(k.fd), ": WebSocket protocol error (",
               ws::reason(ev.err), "); closing with ", ev.code);
        ++stats_.errors.websocket;
        app_.websocket_read_callback({}, ws_message_type::binary, c, true);
        break;
      case ws::event_type::ping:
      case ws::event_type::pong:
      case ws::event_type::none:
        break;
    }
    ws_pump(c, k);  // pong / close echo / our close frame
    const ws::connection_state st = w.proto.state();
    if (st == ws::connection_state::closed || st == ws::connection_state::failed) {
      // The close handshake is complete (or the connection failed): send what is queued, then
      // close TLS and TCP; the server closes the TCP connection first (§7.1.1).
      close_graceful(c, k);
      return;
    }
    if (in.empty() || (r.consumed == 0 && ev.type == ws::event_type::none)) break;
  }
  if (k.out.empty() && !k.closing && !k.close_after_flush) note_idle(c, k);  // nothing to answer
}

bool network_server::impl::ws_queue(client_num_t c, conn& k, std::span<const std::byte> bytes) {
  if (k.tls) return queue_encrypted(c, k, bytes);
  queue_plain(k, bytes);
  return true;
}

void network_server::impl::ws_pump(client_num_t c, conn& k) {
  ws::connection& p = k.ws->proto;
  const std::span<const std::byte> out = p.pending_output();
  if (out.empty()) return;
  ws_queue(c, k, out);
  p.consume_output(out.size());
}

bool network_server::impl::ws_send_frame(client_num_t c, conn& k, const ws::encoded_frame& f) {
  if (!k.tls) {
    queue_plain(k, f.header());
    queue_plain(k, f.payload);
    return true;
  }
  if (f.size() <= 16 * 1024) {
    // One SSL_write for header + payload: one TLS record instead of a 2..10-byte one first.
    ws_.tx.clear();
    ws_.tx.append(f.header());
    ws_.tx.append(f.payload);
    return queue_encrypted(c, k, ws_.tx.span());
  }
  // Large frames: records are 16 KiB anyway; the header alone costs one small extra record
  // rather than a copy of the payload.
  return queue_encrypted(c, k, f.header()) && queue_encrypted(c, k, f.payload);
}

std::chrono::milliseconds network_server::impl::ws_phase_limit(const conn& k) const noexcept {
  const websocket_config& w = config_.websocket;
  if (k.phase == server::conn_phase::ws_closing) return w.close_timeout;
  if (w.ping_interval.count() > 0 && !(k.ws && k.ws->ping_outstanding)) return w.ping_interval;
  return w.idle_timeout;
}

void network_server::impl::ws_watch_send(client_num_t c, conn& k) {
  server::ws_state& w = *k.ws;
  w.send_watched = true;
  w.send_progress_ms = now_ms_;
  ws_arm_timer(static_cast<std::uint32_t>(c), k);
}

void network_server::impl::ws_arm_timer(std::uint32_t slot, conn& k) {
  const server::ws_state& w = *k.ws;
  std::uint64_t due = w.phase_deadline_ms;
  if (w.send_watched) {
    due = std::min(due,
                   w.send_progress_ms + static_cast<std::uint64_t>(config_.idle_timeout.count()));
  }
  timers_.schedule(slot, due);
}

void network_server::impl::ws_on_timer(client_num_t c, conn& k) {
  const auto slot = static_cast<std::uint32_t>(c);
  server::ws_state& w = *k.ws;
  if (w.send_watched &&
      now_ms_ >= w.send_progress_ms + static_cast<std::uint64_t>(config_.idle_timeout.count())) {
    // Slow-read: the peer took nothing for idle_timeout while we had data for it. A close frame
    // would wait behind that data, so the transport goes at once (close code 1006 for the app).
    NS_LOG(log_level::debug, io::peer_name(k.fd), ": WebSocket peer stopped reading; closing");
    ++stats_.errors.timeouts;
    close_hard(c, k);
    return;
  }
  if (now_ms_ < w.phase_deadline_ms) {  // woken for the send watch, and the peer is reading
    ws_arm_timer(slot, k);
    return;
  }
  if (k.phase == server::conn_phase::ws_closing) {
    // §7.1.1: the peer did not answer our close in time; close the transport anyway.
    NS_LOG(log_level::debug, io::peer_name(k.fd), ": WebSocket close timeout; closing");
    close_hard(c, k);
    return;
  }
  if (config_.websocket.ping_interval.count() > 0 && !w.ping_outstanding) {
    w.ping_outstanding = true;  // §5.5.2: a keepalive; any byte received clears it
    w.proto.make_ping();
    ws_pump(c, k);
    set_phase(slot, k, server::conn_phase::websocket);
    flush(c, k);
    return;
  }
  NS_LOG(log_level::debug, io::peer_name(k.fd), ": WebSocket idle timeout; closing with 1001");
  w.proto.close(1001, "idle timeout");
  ws_pump(c, k);
  set_phase(slot, k, server::conn_phase::ws_closing);
  flush(c, k);
}

void network_server::impl::ws_after_send(client_num_t c, conn& k) {
  server::ws_state& w = *k.ws;
  w.send_progress_ms = now_ms_;  // only called after the peer took bytes
  if (k.out.empty() && !k.send_in_flight) w.send_watched = false;
  // Everything sent: if no message follows soon, its buffers are freed (most connections idle).
  if (k.out.empty()) note_idle(c, k);
  if (!w.drain_wanted || k.out.queued() > config_.websocket.drain_threshold) return;
  w.drain_wanted = false;
  if (w.proto.state() == ws::connection_state::open && !k.close_after_flush) {
    app_.websocket_drain_callback(c);
  }
}

void network_server::impl::ws_going_away(client_num_t c, conn& k) {
  if (k.closing || k.close_after_flush || k.ws->proto.state() != ws::connection_state::open) return;
  k.ws->proto.close(1001, "server shutting down");
  ws_pump(c, k);
}

}  // namespace ns
