// SPDX-License-Identifier: MIT
// WebSocket input, the phase clock (pings, idle and close timeouts) and the slow-reader watch.
//
// After the 101 every plaintext byte of the connection belongs to the ws::connection, including
// bytes that arrived in the same read as the upgrade request (http1_upgrade.cpp passes them on).
#include <algorithm>

#include "server/core.hpp"
#include "server/log.hpp"
#include "server/ws_handler.hpp"

namespace ns::server {

ws::connection_options websocket_options(core& c, const ws::deflate_params& deflate) {
  const websocket_config& wc = c.config().websocket;
  ws_shared& shared = c.ws_resources();
  ws::connection_options o;
  o.limits = c.config().ws;
  o.deflate = deflate;
  o.compression = {wc.deflate_level, 8, wc.deflate_threshold};
  // The loop's compressor works with a 2^15 window; a client that asked for a smaller one gets
  // a per-connection compressor (still reset after every message).
  if (shared.compressor && o.deflate.enabled && o.deflate.server_no_context_takeover &&
      o.deflate.server_max_window_bits >= shared.compressor->window_bits()) {
    o.shared_compressor = shared.compressor.get();
  }
  return o;
}

ws_handler::ws_handler(core& c, transport& t, const ws::connection_options& opts)
    : core_(c), t_(t), proto_(opts) {}

void ws_handler::start() {
  enter(phase::open);
}

bool ws_handler::on_plaintext(std::span<const std::byte> bytes) {
  if (!t_.open() || proto_.state() == ws::connection_state::closed ||
      proto_.state() == ws::connection_state::failed) {
    return true;  // after the close handshake nothing more is read (§7.1.1)
  }
  const client_num_t c = t_.handle;
  if (phase_ == phase::open) {
    // Anything received proves the peer alive: restart the ping / idle clock.
    ping_outstanding_ = false;
    enter(phase::open);
  }
  std::span<const std::byte> in = bytes;
  while (t_.open()) {
    const ws::feed_result r = proto_.feed(in);
    in = in.subspan(r.consumed);
    const ws::event& ev = r.ev;
    switch (ev.type) {
      case ws::event_type::message:
        ++core_.counters().ws_messages_in;
        core_.counters().histograms.ws_message_in_bytes.observe(ev.data.size());
        core_.app().websocket_read_callback(
            ev.data, ev.op == ws::opcode::text ? ws_message_type::text : ws_message_type::binary, c,
            false);
        break;
      case ws::event_type::close:
        close_code_ = ev.code;
        break;
      case ws::event_type::failed:
        close_code_ = ev.code;
        core_.report_error(
            t_, conn_error::websocket_protocol,
            std::string(ws::reason(ev.err)) + "; closing with " + std::to_string(ev.code));
        core_.app().websocket_read_callback({}, ws_message_type::binary, c, true);
        break;
      case ws::event_type::ping:
      case ws::event_type::pong:
      case ws::event_type::none:
        break;
    }
    pump();  // pong / close echo / our close frame
    const ws::connection_state st = proto_.state();
    if (st == ws::connection_state::closed || st == ws::connection_state::failed) {
      // The close handshake is complete (or the connection failed): send what is queued, then
      // close TLS and TCP; the server closes the TCP connection first (§7.1.1).
      core_.close_graceful(t_);
      return true;
    }
    if (in.empty() || (r.consumed == 0 && ev.type == ws::event_type::none)) break;
  }
  if (t_.out.empty() && t_.open()) core_.note_idle(t_);  // nothing to answer
  return true;
}

void ws_handler::pump() {
  const std::span<const std::byte> out = proto_.pending_output();
  if (out.empty()) return;
  t_.queue(out);
  proto_.consume_output(out.size());
}

std::chrono::milliseconds ws_handler::phase_limit() const noexcept {
  const websocket_config& w = core_.config().websocket;
  if (phase_ == phase::closing) return w.close_timeout;
  if (w.ping_interval.count() > 0 && !ping_outstanding_) return w.ping_interval;
  return w.idle_timeout;
}

void ws_handler::enter(phase p) {
  phase_ = p;
  phase_deadline_ms_ = core_.now_ms() + static_cast<std::uint64_t>(phase_limit().count());
  arm_timer();
}

void ws_handler::on_output_pending() {
  if (send_watched_) return;
  send_watched_ = true;
  send_progress_ms_ = core_.now_ms();
  arm_timer();
}

void ws_handler::arm_timer() {
  std::uint64_t due = phase_deadline_ms_;
  if (send_watched_) {
    due = std::min(
        due, send_progress_ms_ + static_cast<std::uint64_t>(core_.config().idle_timeout.count()));
  }
  core_.schedule(t_, due);
}

void ws_handler::on_timer() {
  const std::uint64_t now = core_.now_ms();
  if (send_watched_ &&
      now >= send_progress_ms_ + static_cast<std::uint64_t>(core_.config().idle_timeout.count())) {
    // Slow-read: the peer took nothing for idle_timeout while we had data for it. A close frame
    // would wait behind that data, so the transport goes at once (close code 1006 for the app).
    core_.report_error(t_, conn_error::stalled_reader);
    core_.close_hard(t_);
    return;
  }
  if (now < phase_deadline_ms_) {  // woken for the send watch, and the peer is reading
    arm_timer();
    return;
  }
  if (phase_ == phase::closing) {
    // §7.1.1: the peer did not answer our close in time; close the transport anyway.
    NS_LOG(log_level::debug, core_.peer_of(t_), ": WebSocket close timeout; closing");
    core_.close_hard(t_);
    return;
  }
  if (core_.config().websocket.ping_interval.count() > 0 && !ping_outstanding_) {
    ping_outstanding_ = true;  // §5.5.2: a keepalive; any byte received clears it
    proto_.make_ping();
    pump();
    enter(phase::open);
    core_.flush(t_);
    return;
  }
  NS_LOG(log_level::debug, core_.peer_of(t_), ": WebSocket idle timeout; closing with 1001");
  proto_.close(1001, "idle timeout");
  pump();
  enter(phase::closing);
  core_.flush(t_);
}

void ws_handler::on_sent() {
  send_progress_ms_ = core_.now_ms();  // only called after the peer took bytes
  if (t_.out.empty() && !t_.send_in_flight) send_watched_ = false;
  // Everything sent: if no message follows soon, its buffers are freed (most connections idle).
  if (t_.out.empty()) {
    t_.out.trim();
    core_.note_idle(t_);
  }
  if (!drain_wanted_ || t_.out.queued() > core_.config().websocket.drain_threshold) return;
  drain_wanted_ = false;
  if (proto_.state() == ws::connection_state::open && t_.open()) {
    core_.app().websocket_drain_callback(t_.handle);
  }
}

void ws_handler::going_away() {
  if (!t_.open() || proto_.state() != ws::connection_state::open) return;
  proto_.close(1001, "server shutting down");  // close frame first (RFC 6455 §7.4.1)
  pump();
  // A drain waits for the peer's answer (bounded by the close timeout); a stop closes anyway.
  enter(phase::closing);
  core_.flush(t_);
}

bool ws_handler::quiescent() const noexcept {
  return phase_ == phase::open;
}

bool ws_handler::movable() const noexcept {
  return phase_ == phase::open && !drain_wanted_ && proto_.between_messages();
}

void ws_handler::describe_move(handover::connection_state& out) const {
  out.proto = handover::protocol::websocket;
  out.deflate = proto_.deflate();
}

void ws_handler::release_memory() noexcept {
  proto_.release_idle_buffers();
}

void ws_handler::account(memory_by_kind& m) const noexcept {
  m.websocket += proto_.message_bytes();
  m.output += proto_.output_bytes();
  m.zlib += proto_.zlib_bytes();
}

void ws_handler::fail_owed() {
  core_.topics().leave_all(t_.handle);  // a closed connection leaves its topics by itself
}

void ws_handler::report_closed(application_methods& app, client_num_t c) {
  app.websocket_close_callback(c, close_code_);
}

}  // namespace ns::server
