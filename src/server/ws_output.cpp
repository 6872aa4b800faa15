// SPDX-License-Identifier: MIT
// WebSocket output the application asks for: websocket_write / writev / close, broadcast
// (encoded once per loop, encrypted per receiver from the same buffer) and the back-pressure
// rules they share. The API guard (api_guard.hpp) has found the handler before any of this runs.
#include <cerrno>

#include "server/core.hpp"
#include "server/log.hpp"
#include "server/ws_handler.hpp"

namespace ns::server {
namespace {

constexpr std::size_t small_frame = 16 * 1024;

ws::opcode opcode_of(ws_message_type t) noexcept {
  return t == ws_message_type::text ? ws::opcode::text : ws::opcode::binary;
}

// Close codes an endpoint may put on the wire (RFC 6455 §7.4.1, §7.4.2; IANA registry 1012-1014).
bool sendable_close_code(std::uint16_t code) noexcept {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

// A write may be queued when nothing is queued (so one message larger than the bound still
// goes out) or when it fits under the bound.
bool fits(std::size_t queued, std::size_t add, std::size_t bound) noexcept {
  return queued == 0 || queued + add <= bound;
}

}  // namespace

bool ws_handler::send_frame(const ws::encoded_frame& f) {
  if (!t_.tls) {
    t_.queue(f.header());
    t_.queue(f.payload);
    return true;
  }
  if (f.size() <= small_frame) {
    // One record for header + payload instead of a 2..10-byte one first.
    ws::byte_buffer& tx = core_.ws_resources().tx;
    tx.clear();
    tx.append(f.header());
    tx.append(f.payload);
    return t_.queue(tx.span());
  }
  // Large frames: records are 16 KiB anyway; the header alone costs one small extra record
  // rather than a copy of the payload.
  return t_.queue(f.header()) && t_.queue(f.payload);
}

int ws_handler::write(std::span<const iovec> pieces, ws_message_type type, write_kind kind) {
  // §5.5.1: no data frame after our close frame (or once the connection is finished).
  if (proto_.state() != ws::connection_state::open) return -EPIPE;
  std::size_t total = 0;
  for (const iovec& v : pieces) total += v.iov_len;
  const server_config& cfg = core_.config();
  if (!fits(t_.out.queued(), total + ws::max_header_size, cfg.max_queued_output)) {
    drain_wanted_ = true;
    return -ENOBUFS;
  }
  std::span<const std::byte> payload;
  if (pieces.size() == 1) {
    payload = {static_cast<const std::byte*>(pieces[0].iov_base), pieces[0].iov_len};
  } else if (pieces.size() > 1) {
    ws::byte_buffer& gather = core_.ws_resources().gather;
    gather.clear();
    for (const iovec& v : pieces)
      gather.append({static_cast<const std::byte*>(v.iov_base), v.iov_len});
    payload = gather.span();
  }
  const ws::encoded_frame f = proto_.encode_message(opcode_of(type), payload);
  if (!send_frame(f)) {
    core_.close_graceful(t_);
    return -EPIPE;
  }
  t_.out.mark(kind);
  ++core_.counters().ws_messages_out;
  core_.counters().histograms.ws_message_out_bytes.observe(payload.size());
  if (t_.out.queued() > cfg.websocket.drain_threshold) drain_wanted_ = true;
  core_.flush(t_);
  return 0;
}

int ws_handler::close(std::uint16_t code, std::string_view reason) {
  if (!sendable_close_code(code) || reason.size() > ws::max_control_payload - 2) return -EINVAL;
  if (proto_.close_sent() || proto_.state() != ws::connection_state::open) return -EPIPE;
  // A default-constructed reason has a null data(); ws::connection::close memcpy's from it.
  if (reason.empty()) reason = std::string_view("", 0);
  proto_.close(code, reason);
  pump();
  enter(phase::closing);
  core_.flush(t_);
  return 0;
}

void ws_handler::broadcast(broadcast_result& result) {
  const ws_shared& b = core_.ws_resources();
  const bool z = b.bcast_has_z && proto_.accepts_shared_compression(*b.compressor);
  const ws::encoded_frame& f = z ? b.bcast_z : b.bcast_plain;
  const server_config& cfg = core_.config();
  if (!fits(t_.out.queued(), f.size(), cfg.max_queued_output)) {
    // A slow receiver: skipped, never waited for (the others are not delayed).
    ++result.slow;
    drain_wanted_ = true;
    if (cfg.websocket.close_slow_receivers) {
      NS_LOG(log_level::info, "WebSocket receiver too slow for a broadcast; closing with 1008");
      proto_.close(1008, "too slow");
      pump();
      enter(phase::closing);
      core_.flush(t_);
    }
    return;
  }
  bool ok = true;
  if (!t_.tls) {
    t_.queue(f.header());
    t_.queue(f.payload);
  } else if (f.size() <= small_frame) {
    // Header + payload made contiguous once per broadcast, then encrypted per receiver.
    ws_shared& shared = core_.ws_resources();
    ws::byte_buffer& bytes = z ? shared.bcast_z_bytes : shared.bcast_plain_bytes;
    if (bytes.empty()) {
      bytes.append(f.header());
      bytes.append(f.payload);
    }
    ok = t_.queue(bytes.span());
  } else {
    ok = t_.queue(f.header()) && t_.queue(f.payload);
  }
  if (!ok) {
    core_.close_graceful(t_);
    ++result.not_websocket;
    return;
  }
  ++result.queued;
  ++core_.counters().ws_messages_out;
  core_.counters().histograms.ws_message_out_bytes.observe(b.bcast_payload.size());
  if (t_.out.queued() > cfg.websocket.drain_threshold) drain_wanted_ = true;
  core_.flush(t_);
}

}  // namespace ns::server
