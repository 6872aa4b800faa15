// SPDX-License-Identifier: MIT
#include "ws/connection.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace ns::ws {

namespace {

// §7.4.1/§7.4.2 codes a peer may put on the wire; 1004-1006 and 1015 are reserved, 1012-2999
// are reserved for future RFCs/extensions, 3000-4999 are for libraries and applications.
bool valid_close_code(unsigned code) noexcept {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
         (code >= 3000 && code <= 4999);
}

// Payload is unmasked through this stack block on its way into zlib.
constexpr std::size_t inflate_block = 4096;

}  // namespace

connection::connection(const connection_options& opts)
    : opts_(opts),
      decoder_(
          decoder_options{opts.limits.max_frame_bytes, !opts.client_role, opts.deflate.enabled}),
      rng_(opts.mask_seed != 0 ? opts.mask_seed : 1) {}

connection::~connection() = default;

std::uint32_t connection::next_mask() noexcept {
  // xorshift32: masking only has to defeat cache poisoning by intermediaries (§10.3); this
  // client role exists for tests and load generators, not for browsers.
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 17;
  rng_ ^= rng_ << 5;
  return rng_;
}

void connection::queue_control(opcode op, std::span<const std::byte> payload) {
  frame_spec spec{op, true, false, {}};
  if (opts_.client_role) spec.mask = next_mask();
  std::byte* p = out_.prepare(max_header_size + payload.size());
  const std::size_t hn = write_frame_header(
      std::span<std::byte, max_header_size>(p, max_header_size), spec, payload.size());
  if (!payload.empty())
    apply_mask(p + hn, payload.data(), payload.size(), spec.mask.value_or(0), 0);
  out_.commit(hn + payload.size());
}

event connection::fail(error e) {
  err_ = e;
  const auto code = static_cast<std::uint16_t>(close_code_for(e));
  if (!close_sent_) {
    // §7.1.7: fail the connection by sending a close frame with the matching code.
    const std::byte body[2] = {std::byte(code >> 8), std::byte(code & 0xFF)};
    queue_control(opcode::close, body);
    close_sent_ = true;
  }
  state_ = connection_state::failed;
  if (inflater_) inflater_->release();
  event ev;
  ev.type = event_type::failed;
  ev.code = code;
  ev.err = e;
  return ev;
}

bool connection::validate_new_text() {
  if (decoder_.message_opcode() != opcode::text) return true;
  const bool ok = utf8_.feed(msg_.span().subspan(validated_));
  validated_ = msg_.size();
  return ok;
}

void connection::ensure_inflater() {
  if (inflater_) return;
  // Created on the first compressed message (RFC 7692 §7.2.2): zlib memory only when used.
  const bool server = !opts_.client_role;
  const int bits =
      server ? opts_.deflate.client_max_window_bits : opts_.deflate.server_max_window_bits;
  const bool nct =
      server ? opts_.deflate.client_no_context_takeover : opts_.deflate.server_no_context_takeover;
  inflater_ = std::make_unique<inflater>(bits, nct);
}

error connection::append_data(std::span<const std::byte> masked, std::size_t phase) {
  const std::uint32_t key = decoder_.header().mask;  // 0 for unmasked (client role) frames
  if (!decoder_.message_compressed()) {
    std::byte* dst = msg_.prepare(masked.size());
    apply_mask(dst, masked.data(), masked.size(), key, phase);
    msg_.commit(masked.size());
    return validate_new_text() ? error::none : error::invalid_utf8;
  }
  ensure_inflater();
  std::byte block[inflate_block];
  while (!masked.empty()) {
    const std::size_t n = std::min(masked.size(), inflate_block);
    phase = apply_mask(block, masked.data(), n, key, phase);
    masked = masked.subspan(n);
    switch (inflater_->inflate({block, n}, msg_, opts_.limits.max_message_bytes)) {
      case inflate_status::ok:
        break;
      case inflate_status::too_big:
        return error::message_too_big;
      case inflate_status::error:
        return error::inflate_failed;
    }
    // Fail fast on invalid UTF-8 inside a compressed text message (Autobahn 12/13 + 6.x).
    if (!validate_new_text()) return error::invalid_utf8;
  }
  return error::none;
}

event connection::finish_message() {
  // A compressed message whose frames were all empty carries no DEFLATE data at all: treat it
  // as the empty message it is rather than feeding a lone tail to the stream.
  if (decoder_.message_compressed() && declared_ != 0) {
    switch (inflater_->finish(msg_, opts_.limits.max_message_bytes)) {
      case inflate_status::ok:
        break;
      case inflate_status::too_big:
        return fail(error::message_too_big);
      case inflate_status::error:
        return fail(error::inflate_failed);
    }
    if (!validate_new_text()) return fail(error::invalid_utf8);
    const bool peer_resets = opts_.client_role ? opts_.deflate.server_no_context_takeover
                                               : opts_.deflate.client_no_context_takeover;
    if (peer_resets && opts_.release_idle_inflater) inflater_->release();
  }
  // A message cut inside a multi-byte sequence is invalid (§8.1, Autobahn 6.x).
  if (decoder_.message_opcode() == opcode::text && !utf8_.complete()) {
    return fail(error::invalid_utf8);
  }
  event ev;
  ev.type = event_type::message;
  ev.op = decoder_.message_opcode();
  ev.data = msg_.span();
  return ev;
}

event connection::finish_control() {
  const std::span<const std::byte> body(ctrl_, ctrl_len_);
  event ev;
  switch (decoder_.header().op) {
    case opcode::ping:
      // §5.5.2: answer with a pong carrying the same data, unless we are closing or the peer
      // is not reading our output (then only a later ping gets its answer, §5.5.3).
      if (!close_sent_ && out_.size() <= opts_.max_pending_control_output) {
        queue_control(opcode::pong, body);
      }
      ev.type = event_type::ping;
      ev.data = body;
      return ev;
    case opcode::pong:
      ev.type = event_type::pong;
      ev.data = body;
      return ev;
    default:
      break;
  }
  // Close (§5.5.1): empty, or a 2-byte code followed by a UTF-8 reason.
  if (body.size() == 1) return fail(error::close_payload_too_short);
  ev.code = static_cast<std::uint16_t>(close_code::no_status);
  if (body.size() >= 2) {
    ev.code = static_cast<std::uint16_t>((std::to_integer<unsigned>(body[0]) << 8) |
                                         std::to_integer<unsigned>(body[1]));
    if (!valid_close_code(ev.code)) return fail(error::invalid_close_code);
    ev.data = body.subspan(2);
    if (!is_valid_utf8(ev.data)) return fail(error::invalid_utf8);
  }
  close_received_ = true;
  if (!close_sent_) {
    // §5.5.1: echo the status code; the caller closes TCP once this is sent (§7.1.1).
    queue_control(opcode::close, body.first(body.size() >= 2 ? 2 : 0));
    close_sent_ = true;
  }
  state_ = connection_state::closed;
  if (inflater_) inflater_->release();
  ev.type = event_type::close;
  return ev;
}

feed_result connection::feed(std::span<const std::byte> in) {
  feed_result r;
  if (state_ == connection_state::closed || state_ == connection_state::failed) return r;
  std::size_t used = 0;
  for (;;) {
    const decode_step s = decoder_.decode(in.subspan(used));
    used += s.consumed;
    r.consumed = used;
    if (s.status == decode_status::need_more) return r;
    if (s.status == decode_status::error) {
      r.ev = fail(decoder_.last_error());
      return r;
    }
    const frame_header& h = decoder_.header();
    const bool control = is_control(h.op);
    if (s.status == decode_status::header) {
      if (control) {
        ctrl_len_ = 0;
      } else {
        if (h.op != opcode::continuation) {
          msg_.clear();
          utf8_.reset();
          validated_ = 0;
          declared_ = 0;
        }
        declared_ += h.payload_length;
        // Uncompressed: the announced size already tells (fail before buffering anything).
        // Compressed: the inflated size is checked while inflating; the wire size is bounded
        // too (DEFLATE expands incompressible data by a few bytes per 64 KiB stored block),
        // so a stream of empty blocks cannot keep us busy forever.
        const std::uint64_t max = opts_.limits.max_message_bytes;
        const std::uint64_t slack = max / 16 + 1024;
        const std::uint64_t cap = !decoder_.message_compressed() ? max
                                  : max > UINT64_MAX - slack     ? UINT64_MAX
                                                                 : max + slack;
        if (declared_ > cap) {
          r.ev = fail(error::message_too_big);
          return r;
        }
      }
    } else if (control) {
      apply_mask(ctrl_ + ctrl_len_, s.payload.data(), s.payload.size(), h.mask, s.mask_phase);
      ctrl_len_ = static_cast<std::uint8_t>(ctrl_len_ + s.payload.size());
    } else if (const error e = append_data(s.payload, s.mask_phase); e != error::none) {
      r.ev = fail(e);
      return r;
    }
    if (!s.frame_end) continue;
    if (control) {
      r.ev = finish_control();
      return r;
    }
    if (h.fin) {
      r.ev = finish_message();
      return r;
    }
  }
}

encoded_frame connection::encode_message(opcode op, std::span<const std::byte> payload,
                                         bool compress) {
  frame_spec spec{op, true, false, {}};
  std::span<const std::byte> body = payload;
  const bool server = !opts_.client_role;
  if (compress && opts_.deflate.enabled && !is_control(op) &&
      payload.size() >= opts_.compression.threshold) {
    const bool nct = server ? opts_.deflate.server_no_context_takeover
                            : opts_.deflate.client_no_context_takeover;
    deflater* d =
        (server && nct && opts_.shared_compressor != nullptr) ? opts_.shared_compressor : nullptr;
    if (d == nullptr) {
      if (!deflater_) {
        const int bits =
            server ? opts_.deflate.server_max_window_bits : opts_.deflate.client_max_window_bits;
        deflater_ = std::make_unique<deflater>(bits, nct, opts_.compression);
      }
      d = deflater_.get();
    }
    if (d->compress(payload, enc_)) {
      spec.rsv1 = true;
      body = enc_.span();
    }
  }
  if (opts_.client_role) {
    spec.mask = next_mask();
    if (!spec.rsv1) {
      enc_.clear();
      enc_.prepare(payload.size());
      enc_.commit(payload.size());
    }
    // In place for compressed data (already in enc_), copying for the caller's bytes.
    apply_mask(enc_.data(), spec.rsv1 ? enc_.data() : payload.data(), enc_.size(), *spec.mask, 0);
    body = enc_.span();
  }
  encoded_frame f;
  f.header_size = static_cast<std::uint8_t>(write_frame_header(f.header_bytes, spec, body.size()));
  f.payload = body;
  return f;
}

bool connection::release_idle_buffers() noexcept {
  if (decoder_.in_message() || decoder_.remaining() != 0) return false;
  msg_.release();
  validated_ = 0;
  if (out_.empty()) out_.release();
  enc_.release();
  const bool server = !opts_.client_role;
  const bool peer_resets =
      server ? opts_.deflate.client_no_context_takeover : opts_.deflate.server_no_context_takeover;
  if (inflater_ && peer_resets) inflater_->release();
  // Our compressor starts every message afresh anyway; it is created again on the next one.
  if (deflater_ && deflater_->no_context_takeover()) deflater_.reset();
  return true;
}

bool connection::between_messages() const noexcept {
  if (state_ != connection_state::open || close_sent_ || close_received_) return false;
  if (!decoder_.at_message_boundary() || !out_.empty()) return false;
  if (!opts_.deflate.enabled) return true;
  // A window kept across messages (context takeover) is zlib state we do not serialise.
  return opts_.deflate.server_no_context_takeover && opts_.deflate.client_no_context_takeover;
}

bool connection::accepts_shared_compression(const deflater& shared) const noexcept {
  return opts_.deflate.enabled && !opts_.client_role && opts_.deflate.server_no_context_takeover &&
         shared.no_context_takeover() &&
         std::max(shared.window_bits(), 9) <= std::max(opts_.deflate.server_max_window_bits, 9);
}

void connection::close(std::uint16_t code, std::string_view reason) {
  if (close_sent_) return;
  std::byte body[max_control_payload];
  std::size_t n = 0;
  if (code != 0) {
    body[0] = std::byte(code >> 8);
    body[1] = std::byte(code & 0xFF);
    n = 2 + std::min(reason.size(), max_control_payload - 2);
    // copy_n, not memcpy: an empty reason may have a null data() (memcpy(dst, nullptr, 0) is UB).
    std::copy_n(reinterpret_cast<const std::byte*>(reason.data()), n - 2, body + 2);
  }
  queue_control(opcode::close, {body, n});
  close_sent_ = true;
  if (state_ == connection_state::open) state_ = connection_state::closing;
}

void connection::make_ping(std::span<const std::byte> payload) {
  if (close_sent_) return;
  queue_control(opcode::ping, payload.first(std::min(payload.size(), max_control_payload)));
}

encoded_frame encode_broadcast(opcode op, std::span<const std::byte> payload, deflater* shared,
                               std::size_t threshold, byte_buffer& scratch) {
  frame_spec spec{op, true, false, {}};
  std::span<const std::byte> body = payload;
  if (shared != nullptr && !is_control(op) && payload.size() >= threshold &&
      shared->compress(payload, scratch)) {
    spec.rsv1 = true;
    body = scratch.span();
  }
  encoded_frame f;
  f.header_size = static_cast<std::uint8_t>(write_frame_header(f.header_bytes, spec, body.size()));
  f.payload = body;
  return f;
}

}  // namespace ns::ws
