// SPDX-License-Identifier: MIT
// NS_FUZZ_LIBS: ns_ws
// Fuzzes ws::connection (frame decoding, message assembly, UTF-8, inflate, close handling).
// Byte 0 picks options (deflate, small limits), byte 1 the chunk size the rest is fed in.
// Invariants: feed() never consumes more than given; delivered text is valid UTF-8 and within
// the message limit; a failure queues a close frame with close_code_for(error); every message
// re-encoded by a client-role connection decodes to the same message (encode∘decode).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "ws/connection.hpp"

namespace {

using namespace ns::ws;

void check(bool ok) {
  if (!ok) std::abort();
}

void round_trip(const connection_options& server_opts, opcode op, std::span<const std::byte> data) {
  connection_options co = server_opts;
  co.client_role = true;
  co.shared_compressor = nullptr;
  co.limits.max_frame_bytes = co.limits.max_message_bytes = 1 << 20;
  connection client(co);
  const encoded_frame f = client.encode_message(op, data);
  std::vector<std::byte> wire(f.header().begin(), f.header().end());
  wire.insert(wire.end(), f.payload.begin(), f.payload.end());
  connection_options so = server_opts;
  so.limits.max_frame_bytes = so.limits.max_message_bytes = 1 << 20;
  connection server(so);
  const feed_result r = server.feed(wire);
  check(r.consumed == wire.size());
  check(r.ev.type == event_type::message);
  check(r.ev.op == op);
  check(r.ev.data.size() == data.size());
  check(data.empty() || std::memcmp(r.ev.data.data(), data.data(), data.size()) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const unsigned flags = data[0];
  const std::size_t chunk = 1 + data[1] % 64;
  // Exact-size heap copy so ASan catches any over-read.
  std::unique_ptr<std::byte[]> buf(new std::byte[size - 2]);
  std::memcpy(buf.get(), data + 2, size - 2);
  const std::span<const std::byte> in(buf.get(), size - 2);

  connection_options o;
  o.deflate.enabled = (flags & 1) != 0;
  o.deflate.client_no_context_takeover = (flags & 2) != 0;
  o.deflate.server_no_context_takeover = (flags & 4) != 0;
  o.deflate.client_max_window_bits = 8 + static_cast<int>((flags >> 3) & 7);
  o.compression.threshold = 8;
  if ((flags & 0x40) != 0) {
    o.limits.max_frame_bytes = 64;
    o.limits.max_message_bytes = 256;
  } else {
    o.limits.max_frame_bytes = o.limits.max_message_bytes = 1 << 20;
  }
  connection c(o);
  std::size_t pos = 0;
  while (pos < in.size()) {
    std::span<const std::byte> piece = in.subspan(pos, std::min(chunk, in.size() - pos));
    pos += piece.size();
    bool stopped = false;
    while (!piece.empty()) {
      const feed_result r = c.feed(piece);
      check(r.consumed <= piece.size());
      piece = piece.subspan(r.consumed);
      const event& ev = r.ev;
      if (ev.type == event_type::message) {
        check(ev.data.size() <= o.limits.max_message_bytes);
        if (ev.op == opcode::text) check(is_valid_utf8(ev.data));
        if ((flags & 0x80) != 0) round_trip(o, ev.op, ev.data);
      } else if (ev.type == event_type::failed) {
        check(ev.code == static_cast<std::uint16_t>(close_code_for(ev.err)));
        check(c.state() == connection_state::failed);
        check(!c.pending_output().empty());
      } else if (ev.type == event_type::close) {
        check(c.state() == connection_state::closed);
      } else if (ev.type == event_type::none && r.consumed == 0) {
        stopped = true;
        break;
      }
    }
    if (stopped) break;
    // Sometimes send what was queued, as a server would.
    if ((pos & 3) == 0) c.consume_output(c.pending_output().size() / 2);
  }
  return 0;
}
