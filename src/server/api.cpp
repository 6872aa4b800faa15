// SPDX-License-Identifier: MIT
// The HTTP and WebSocket entry points of the public API: each passes the one guard
// (api_guard.hpp), then the handler the handle names does the work.
#include "server/api_guard.hpp"
#include "server/core.hpp"
#include "server/http1_handler.hpp"
#include "server/http2_handler.hpp"
#include "server/stream_handle.hpp"
#include "server/ws_handler.hpp"

namespace ns {

using server::guard;
using server::http1_handler;
using server::http2_handler;
using server::need_open;
using server::need_ready;
using server::ws_handler;

namespace {

// An HTTP call on an HTTP/2 stream handle: the guard resolves its connection, the handler the
// stream (the tag in the handle).
template <class F>
int on_stream(network_server::impl& loop, client_num_t c, unsigned options, F&& call) {
  auto g = guard<http2_handler>(loop, server::connection_of(c), options);
  return g ? call(*g.h, server::stream_tag_of(c)) : g.err;
}

}  // namespace

int network_server::impl::http_write(client_num_t c, std::span<const iovec> pieces,
                                     server::write_kind kind) {
  if (server::is_stream_handle(c)) {
    return on_stream(*this, c, need_open | need_ready, [&](http2_handler& h, std::uint32_t tag) {
      return h.write(tag, pieces, kind);
    });
  }
  auto g = guard<http1_handler>(*this, c, need_open | need_ready);
  return g ? g->write(pieces, kind) : g.err;
}

int network_server::impl::http_respond(client_num_t c, int status,
                                       std::span<const http_header> headers,
                                       std::span<const std::byte> body) {
  if (server::is_stream_handle(c)) {
    return on_stream(*this, c, need_open | need_ready, [&](http2_handler& h, std::uint32_t tag) {
      return h.respond(tag, status, headers, body);
    });
  }
  auto g = guard<http1_handler>(*this, c, need_open | need_ready);
  return g ? g->respond(status, headers, body) : g.err;
}

int network_server::impl::http_close(client_num_t c) {
  if (server::is_stream_handle(c)) {
    return on_stream(*this, c, 0,
                     [&](http2_handler& h, std::uint32_t tag) { return h.close_stream(tag); });
  }
  auto g = guard<server::any_http_handler>(*this, c);
  if (!g) return g.err;
  close_graceful(*g.t);
  return 0;
}

int network_server::impl::http_send_file(client_num_t c, const http_request& req,
                                         std::string_view path, bool use_target, file_source from) {
  if (server::is_stream_handle(c)) {
    return on_stream(*this, c, need_open | need_ready, [&](http2_handler& h, std::uint32_t tag) {
      return h.send_file(tag, req, path, use_target, from);
    });
  }
  auto g = guard<http1_handler>(*this, c, need_open | need_ready);
  return g ? g->send_file(req, path, use_target, from) : g.err;
}

int network_server::impl::http_post_read(client_num_t c) {
  if (server::is_stream_handle(c)) {
    return on_stream(*this, c, need_open,
                     [&](http2_handler& h, std::uint32_t tag) { return h.post_read(tag); });
  }
  auto g = guard<http1_handler>(*this, c, need_open);
  return g ? g->post_read() : g.err;
}

int network_server::impl::http_begin_chunked(client_num_t c, int status,
                                             std::span<const http_header> headers) {
  if (server::is_stream_handle(c)) {
    return on_stream(*this, c, need_open | need_ready, [&](http2_handler& h, std::uint32_t tag) {
      return h.begin_chunked(tag, status, headers);
    });
  }
  auto g = guard<http1_handler>(*this, c, need_open | need_ready);
  return g ? g->begin_chunked(status, headers) : g.err;
}

int network_server::impl::http_write_chunk(client_num_t c, std::span<const std::byte> data) {
  if (server::is_stream_handle(c)) {
    return on_stream(*this, c, need_open,
                     [&](http2_handler& h, std::uint32_t tag) { return h.write_chunk(tag, data); });
  }
  auto g = guard<http1_handler>(*this, c, need_open);
  return g ? g->write_chunk(data) : g.err;
}

int network_server::impl::http_end_chunked(client_num_t c) {
  if (server::is_stream_handle(c)) {
    return on_stream(*this, c, need_open,
                     [&](http2_handler& h, std::uint32_t tag) { return h.end_chunked(tag); });
  }
  auto g = guard<http1_handler>(*this, c, need_open);
  return g ? g->end_chunked() : g.err;
}

int network_server::impl::ws_write(client_num_t c, std::span<const iovec> pieces,
                                   ws_message_type type, server::write_kind kind) {
  auto g = guard<ws_handler>(*this, c, need_open);
  return g ? g->write(pieces, type, kind) : g.err;
}

int network_server::impl::ws_close(client_num_t c, std::uint16_t code, std::string_view reason) {
  auto g = guard<ws_handler>(*this, c, need_open);
  return g ? g->close(code, reason) : g.err;
}

void network_server::impl::ws_broadcast_begin(std::span<const std::byte> data,
                                              ws_message_type type) {
  server::ws_shared& b = ws_resources();
  b.bcast_active = true;
  b.bcast_op = type == ws_message_type::text ? ws::opcode::text : ws::opcode::binary;
  b.bcast_payload = data;
  b.bcast_plain = ws::make_frame({b.bcast_op, true, false, {}}, data);
  b.bcast_has_z = false;
  b.bcast_plain_bytes.clear();
  b.bcast_z_bytes.clear();
  b.bcast_deflated.clear();
  if (b.compressor && data.size() >= config_.websocket.deflate_threshold) {
    // Compressed once for every receiver that accepts the shared compressor's frames.
    b.bcast_z = ws::encode_broadcast(b.bcast_op, data, b.compressor.get(),
                                     config_.websocket.deflate_threshold, b.bcast_deflated);
    b.bcast_has_z = (std::to_integer<unsigned>(b.bcast_z.header_bytes[0]) & 0x40u) != 0;
  }
}

void network_server::impl::ws_broadcast_to(client_num_t c, broadcast_result& result) {
  auto g = guard<ws_handler>(*this, c, need_open);
  if (!g || !ws_.bcast_active || !g->open_for_messages()) {
    ++result.not_websocket;
    return;
  }
  g->broadcast(result);
}

void network_server::impl::ws_broadcast_end() noexcept {
  ws_.bcast_active = false;
  ws_.bcast_payload = {};
  ws_.bcast_plain.payload = {};
  ws_.bcast_z.payload = {};
}

int network_server::impl::subscribe(client_num_t c, std::string_view topic) {
  auto g = guard<ws_handler>(*this, c, need_open);
  if (!g) return g.err;
  if (!g->open_for_messages()) return -EPIPE;  // our close frame is out: nothing more to send
  return topics_.subscribe(c, topic);
}

int network_server::impl::unsubscribe(client_num_t c, std::string_view topic) {
  auto g = guard<ws_handler>(*this, c);
  return g ? topics_.unsubscribe(c, topic) : g.err;
}

std::int64_t network_server::impl::queued_bytes(client_num_t c) noexcept {
  if (server::is_stream_handle(c)) {
    auto g = guard<http2_handler>(*this, server::connection_of(c));
    return g ? g->queued(server::stream_tag_of(c)) : g.err;
  }
  transport* t = find(c);
  if (t == nullptr) return -EBADF;
  return static_cast<std::int64_t>(t->out.queued());
}

std::string_view network_server::impl::client_address(client_num_t c) {
  transport* t = find(server::is_stream_handle(c) ? server::connection_of(c) : c);
  return t == nullptr ? std::string_view{} : peer_of(*t);
}

}  // namespace ns
