// SPDX-License-Identifier: MIT
// WebSocket output: websocket_write / writev / close, broadcast (encoded once, encrypted per
// receiver from the same buffer) and the back-pressure queries. Public methods forward here.
#include <cerrno>

#include "server/log.hpp"
#include "server/server_impl.hpp"

namespace ns {
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

int network_server::impl::ws_write(client_num_t c, std::span<const iovec> pieces,
                                   ws_message_type type, server::write_kind kind) {
  conn* k = conns_.find(c);
  if (k == nullptr) return -EBADF;
  if (!k->ws) return -EINVAL;
  if (k->closing || k->close_after_flush) return -EPIPE;
  server::ws_state& w = *k->ws;
  // §5.5.1: no data frame after our close frame (or once the connection is finished).
  if (w.proto.state() != ws::connection_state::open) return -EPIPE;
  std::size_t total = 0;
  for (const iovec& v : pieces) total += v.iov_len;
  if (!fits(k->out.queued(), total + ws::max_header_size, config_.max_queued_output)) {
    w.drain_wanted = true;
    return -ENOBUFS;
  }
  std::span<const std::byte> payload;
  if (pieces.size() == 1) {
    payload = {static_cast<const std::byte*>(pieces[0].iov_base), pieces[0].iov_len};
  } else if (pieces.size() > 1) {
    ws_.gather.clear();
    for (const iovec& v : pieces)
      ws_.gather.append({static_cast<const std::byte*>(v.iov_base), v.iov_len});
    payload = ws_.gather.span();
  }
  const ws::encoded_frame f = w.proto.encode_message(opcode_of(type), payload);
  if (!ws_send_frame(c, *k, f)) {
    close_graceful(c, *k);
    return -EPIPE;
  }
  k->out.mark(kind);
  ++stats_.ws_messages_out;
  if (k->out.queued() > config_.websocket.drain_threshold) w.drain_wanted = true;
  flush(c, *k);
  return 0;
}

int network_server::impl::ws_close(client_num_t c, std::uint16_t code, std::string_view reason) {
  conn* k = conns_.find(c);
  if (k == nullptr) return -EBADF;
  if (!k->ws) return -EINVAL;
  if (!sendable_close_code(code) || reason.size() > ws::max_control_payload - 2) return -EINVAL;
  if (k->closing || k->close_after_flush || k->ws->proto.close_sent() ||
      k->ws->proto.state() != ws::connection_state::open) {
    return -EPIPE;
  }
  // A default-constructed reason has a null data(); ws::connection::close memcpy's from it.
  if (reason.empty()) reason = std::string_view("", 0);
  k->ws->proto.close(code, reason);
  ws_pump(c, *k);
  set_phase(static_cast<std::uint32_t>(c), *k, server::conn_phase::ws_closing);
  flush(c, *k);
  return 0;
}

void network_server::impl::ws_broadcast_begin(std::span<const std::byte> data,
                                              ws_message_type type) {
  ws_init();
  ws_.bcast_active = true;
  ws_.bcast_op = opcode_of(type);
  ws_.bcast_payload = data;
  ws_.bcast_plain = ws::make_frame({ws_.bcast_op, true, false, {}}, data);
  ws_.bcast_has_z = false;
  ws_.bcast_plain_bytes.clear();
  ws_.bcast_z_bytes.clear();
  ws_.bcast_deflated.clear();
  if (ws_.compressor && data.size() >= config_.websocket.deflate_threshold) {
    // Compressed once for every receiver that accepts the shared compressor's frames.
    ws_.bcast_z = ws::encode_broadcast(ws_.bcast_op, data, ws_.compressor.get(),
                                       config_.websocket.deflate_threshold, ws_.bcast_deflated);
    ws_.bcast_has_z = (std::to_integer<unsigned>(ws_.bcast_z.header_bytes[0]) & 0x40u) != 0;
  }
}

void network_server::impl::ws_broadcast_to(client_num_t c, broadcast_result& result) {
  conn* k = conns_.find(c);
  if (k == nullptr || !k->ws || k->closing || k->close_after_flush ||
      k->ws->proto.state() != ws::connection_state::open || !ws_.bcast_active) {
    ++result.not_websocket;
    return;
  }
  server::ws_state& w = *k->ws;
  const bool z = ws_.bcast_has_z && w.proto.accepts_shared_compression(*ws_.compressor);
  const ws::encoded_frame& f = z ? ws_.bcast_z : ws_.bcast_plain;
  if (!fits(k->out.queued(), f.size(), config_.max_queued_output)) {
    // A slow receiver: skipped, never waited for (the others are not delayed).
    ++result.slow;
    w.drain_wanted = true;
    if (config_.websocket.close_slow_receivers) {
      NS_LOG(log_level::info, "WebSocket receiver too slow for a broadcast; closing with 1008");
      w.proto.close(1008, "too slow");
      ws_pump(c, *k);
      set_phase(static_cast<std::uint32_t>(c), *k, server::conn_phase::ws_closing);
      flush(c, *k);
    }
    return;
  }
  bool ok = true;
  if (!k->tls) {
    queue_plain(*k, f.header());
    queue_plain(*k, f.payload);
  } else if (f.size() <= small_frame) {
    // Header + payload made contiguous once per broadcast, then encrypted per receiver.
    ws::byte_buffer& bytes = z ? ws_.bcast_z_bytes : ws_.bcast_plain_bytes;
    if (bytes.empty()) {
      bytes.append(f.header());
      bytes.append(f.payload);
    }
    ok = queue_encrypted(c, *k, bytes.span());
  } else {
    ok = queue_encrypted(c, *k, f.header()) && queue_encrypted(c, *k, f.payload);
  }
  if (!ok) {
    close_graceful(c, *k);
    ++result.not_websocket;
    return;
  }
  ++result.queued;
  ++stats_.ws_messages_out;
  if (k->out.queued() > config_.websocket.drain_threshold) w.drain_wanted = true;
  flush(c, *k);
}

void network_server::impl::ws_broadcast_end() noexcept {
  ws_.bcast_active = false;
  ws_.bcast_payload = {};
  ws_.bcast_plain.payload = {};
  ws_.bcast_z.payload = {};
}

std::int64_t network_server::impl::queued_bytes(client_num_t c) noexcept {
  conn* k = conns_.find(c);
  if (k == nullptr) return -EBADF;
  return static_cast<std::int64_t>(k->out.queued());
}

// ---- public forwarders ------------------------------------------------------------------------

int network_server::websocket_write(client_num_t client_num, std::span<const std::byte> data,
                                    ws_message_type type) {
  const iovec v{const_cast<std::byte*>(data.data()), data.size()};
  return impl_->ws_write(client_num, std::span<const iovec>(&v, 1), type,
                         server::write_kind::ws_write);
}

int network_server::websocket_writev(client_num_t client_num, std::span<const iovec> pieces,
                                     ws_message_type type) {
  return impl_->ws_write(client_num, pieces, type, server::write_kind::ws_writev);
}

int network_server::websocket_close(client_num_t client_num, std::uint16_t code,
                                    std::string_view reason) {
  return impl_->ws_close(client_num, code, reason);
}

std::int64_t network_server::queued_bytes(client_num_t client_num) const noexcept {
  return impl_->queued_bytes(client_num);
}

void network_server::broadcast_begin(std::span<const std::byte> data, ws_message_type type) {
  impl_->ws_broadcast_begin(data, type);
}

void network_server::broadcast_to(client_num_t client_num, broadcast_result& result) {
  impl_->ws_broadcast_to(client_num, result);
}

void network_server::broadcast_end() noexcept {
  impl_->ws_broadcast_end();
}

}  // namespace ns
