// SPDX-License-Identifier: MIT
// TLS 1.3 application-phase record layer (server side of a handed-over session).
#include "tls/record_layer.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace ns::tls {

namespace {

constexpr std::uint8_t type_alert = 21;
constexpr std::uint8_t type_handshake = 22;
constexpr std::uint8_t type_application_data = 23;
constexpr std::uint8_t handshake_key_update = 24;
constexpr std::uint8_t level_warning = 1;
constexpr std::uint8_t level_fatal = 2;

std::span<const std::uint8_t> bytes_of(std::span<const std::byte> s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::span<std::uint8_t> bytes_of(std::span<std::byte> s) noexcept {
  return {reinterpret_cast<std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

record_layer::record_layer(suite s, traffic_secret&& read, traffic_secret&& write,
                           std::uint64_t write_seq, std::uint64_t key_update_after)
    : read_(s, std::move(read), false),
      write_(s, std::move(write), true),
      key_update_after_(key_update_after) {
  write_.set_sequence(write_seq);
}

bool record_layer::wrote(std::span<const std::byte> record, std::uint64_t seq) noexcept {
  if (record.size() < header_size) return false;
  const auto* rec = reinterpret_cast<const std::uint8_t*>(record.data());
  return write_.opens(std::span<const std::uint8_t, header_size>(rec, header_size),
                      {rec + header_size, record.size() - header_size}, seq);
}

record_layer::step record_layer::fail(alert a, const char* why, ciphertext_sink& control) {
  reason_ = why;
  if (!closed_) {
    const std::uint8_t body[2] = {level_fatal, static_cast<std::uint8_t>(a)};
    seal(type_alert, body, control);
    closed_ = true;
  }
  return {step_kind::error, 0, 0, 0};
}

record_layer::step record_layer::read(std::span<const std::byte> in, std::span<std::byte> out,
                                      ciphertext_sink& control) {
  if (in.size() < header_size) return {};
  const std::span<const std::uint8_t> rec = bytes_of(in);
  const std::size_t len = (std::size_t{rec[3]} << 8) | rec[4];
  // After the handshake every record is protected (outer type application_data); a
  // change_cipher_spec is only tolerated before the peer's Finished (RFC 8446 §5).
  if (rec[0] != type_application_data) {
    return fail(alert::unexpected_message, "unprotected record after the handshake", control);
  }
  if (len > max_ciphertext) return fail(alert::record_overflow, "record too long", control);
  if (len < tag_size) return fail(alert::bad_record_mac, "record shorter than its tag", control);
  const std::size_t size = header_size + len;
  if (in.size() < size) return {step_kind::need_more, 0, 0, size};
  const std::size_t room = len - tag_size;
  if (out.size() < room) return {step_kind::need_room, 0, 0, room};

  std::span<std::uint8_t> pt = bytes_of(out).first(room);
  if (!read_.open(rec.first<header_size>(), rec.subspan(header_size, len), pt)) {
    return fail(alert::bad_record_mac, "record failed authentication", control);
  }
  // The whole TLSInnerPlaintext (content, type, padding) is limited, not just the content
  // (§5.4); checked once the record is authentic, so a forgery always gets bad_record_mac.
  if (room > max_plaintext + 1) return fail(alert::record_overflow, "plaintext too long", control);
  // TLSInnerPlaintext: content, then the real content type, then zero padding (§5.4).
  std::size_t n = room;
  while (n > 0 && pt[n - 1] == 0) --n;
  if (n == 0) return fail(alert::unexpected_message, "record without a content type", control);
  const std::uint8_t inner = pt[--n];
  // §5.1: handshake messages may not be interleaved with other record types.
  if (hs_len_ != 0 && inner != type_handshake) {
    return fail(alert::unexpected_message, "handshake message interrupted", control);
  }
  switch (inner) {
    case type_application_data:
      if (n == 0) return no_progress(size, control);
      useless_ = 0;
      return {step_kind::data, size, n, 0};
    case type_alert:
      // §5.1: zero-length fragments of Alert (or Handshake) are unexpected_message; an alert
      // is exactly two bytes, never split over records or coalesced (decode_error, §6).
      if (n == 0) return fail(alert::unexpected_message, "empty alert record", control);
      if (n != 2) return fail(alert::decode_error, "malformed alert", control);
      if (pt[1] == static_cast<std::uint8_t>(alert::close_notify)) {
        return {step_kind::closed, size, 0, 0};
      }
      // user_canceled announces a close_notify (§6.1); every other alert, whatever its level
      // and including codes we do not know, is fatal in TLS 1.3 (§6).
      if (pt[1] == static_cast<std::uint8_t>(alert::user_canceled)) {
        return no_progress(size, control);
      }
      peer_alert_ = pt[1];
      reason_ = "the peer sent a fatal alert";
      closed_ = true;  // no alert in reply to an alert
      return {step_kind::error, size, 0, 0};
    case type_handshake: {
      const step s = on_handshake(pt.first(n), control);
      if (s.kind == step_kind::error) return s;
      return no_progress(size, control);
    }
    default:
      return fail(alert::unexpected_message, "unknown record content type", control);
  }
}

record_layer::step record_layer::no_progress(std::size_t consumed, ciphertext_sink& control) {
  if (++useless_ > max_useless_records) {
    return fail(alert::unexpected_message, "too many records without application data", control);
  }
  return {step_kind::data, consumed, 0, 0};
}

record_layer::step record_layer::on_handshake(std::span<const std::uint8_t> body,
                                              ciphertext_sink& control) {
  if (body.empty()) return fail(alert::unexpected_message, "empty handshake record", control);
  // The only handshake message a client may send now is KeyUpdate (§4.6.3): type 24, length 1.
  // It may arrive in pieces, but must end its record (§5.1: it precedes a key change).
  for (std::size_t i = 0; i < body.size(); ++i) {
    hs_[hs_len_++] = body[i];
    if (hs_len_ == 1 && hs_[0] != handshake_key_update) {
      return fail(alert::unexpected_message, "handshake message after the handshake", control);
    }
    if (hs_len_ == 4 && (hs_[1] != 0 || hs_[2] != 0 || hs_[3] != 1)) {
      return fail(alert::decode_error, "malformed KeyUpdate", control);
    }
    if (hs_len_ < hs_.size()) continue;
    hs_len_ = 0;
    if (hs_[4] > 1) return fail(alert::illegal_parameter, "bad KeyUpdate request", control);
    if (i + 1 != body.size()) {
      return fail(alert::unexpected_message, "KeyUpdate not at the end of its record", control);
    }
    if (!read_.update()) return fail(alert::internal_error, "key update failed", control);
    ++read_updates_;
    // Answered before our next application data, once however often the peer asked (§4.6.3).
    if (hs_[4] == 1) owe_update_ = true;
  }
  return {step_kind::data, 0, 0, 0};
}

bool record_layer::seal(std::uint8_t inner_type, std::span<const std::uint8_t> plaintext,
                        ciphertext_sink& sink) {
  const std::size_t len = plaintext.size() + 1 + tag_size;
  const std::uint8_t header[header_size] = {type_application_data, 3, 3,
                                            static_cast<std::uint8_t>(len >> 8),
                                            static_cast<std::uint8_t>(len)};
  const std::span<std::uint8_t> out = bytes_of(sink.prepare(header_size + len));
  std::memcpy(out.data(), header, header_size);
  if (!write_.seal(header, plaintext, inner_type, out.subspan(header_size))) {
    // Abandon the room (a vector_sink grew for it) and send nothing more: whatever followed
    // would be sealed at a sequence number the peer does not expect.
    sink.commit(0);
    closed_ = true;
    return false;
  }
  sink.commit(header_size + len);
  return true;
}

bool record_layer::send_key_update(ciphertext_sink& sink) {
  // update_not_requested: ours are answers or rotations; we never need the peer's (§4.6.3).
  const std::uint8_t msg[5] = {handshake_key_update, 0, 0, 1, 0};
  if (!seal(type_handshake, msg, sink)) return false;
  // GCOVR_EXCL_START: update() fails only on allocation failure; the peer now expects our
  // next key, which we do not have, so nothing more may be sent.
  if (!write_.update()) {
    closed_ = true;
    return false;
  }
  // GCOVR_EXCL_STOP
  ++write_updates_;
  return true;
}

bool record_layer::write(std::span<const std::byte> plaintext, ciphertext_sink& sink) {
  if (closed_) return false;
  if (owe_update_) {
    owe_update_ = false;
    if (!send_key_update(sink)) return false;
  }
  std::span<const std::uint8_t> rest = bytes_of(plaintext);
  while (!rest.empty()) {
    if (write_.sequence() >= key_update_after_ && !send_key_update(sink)) return false;
    const std::size_t n = std::min(rest.size(), max_plaintext);
    if (!seal(type_application_data, rest.first(n), sink)) return false;
    rest = rest.subspan(n);
  }
  return true;
}

void record_layer::close(ciphertext_sink& sink) {
  if (closed_) return;
  const std::uint8_t body[2] = {level_warning, static_cast<std::uint8_t>(alert::close_notify)};
  seal(type_alert, body, sink);
  closed_ = true;
}

}  // namespace ns::tls
