// SPDX-License-Identifier: MIT
// The hand-over of a TLS 1.3 server session from OpenSSL to our record layer: the traffic
// secrets come from the key log callback, the records OpenSSL wrote while finishing the
// handshake fix the sequence number we continue from (proved by opening the last of them), and
// then the SSL object is freed; afterwards every record is read here (fast_read).
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "tls/callbacks.hpp"
#include "tls/handover.hpp"
#include "tls/record_layer.hpp"
#include "tls/session_buffers.hpp"

namespace ns::tls {

using detail::secrets_index;
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "LABEL <client random hex> <secret hex>" (NSS key log format) → secret bytes.
bool parse_secret(std::string_view line, traffic_secret& out) noexcept {
  const std::size_t sp = line.rfind(' ');
  if (sp == std::string_view::npos) return false;
  const std::string_view hex = line.substr(sp + 1);
  if (hex.size() % 2 != 0 || hex.size() / 2 > out.bytes.size()) return false;
  for (std::size_t i = 0; i < hex.size() / 2; ++i) {
    const int hi = hex_value(hex[2 * i]);
    const int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      out.clear();  // no half-parsed secret left behind
      return false;
    }
    out.bytes[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  out.size = hex.size() / 2;
  return true;
}

}  // namespace

void detail::keep_traffic_secret(const SSL* s, const char* line) {
  auto* io = static_cast<detail::session_buffers*>(SSL_get_ex_data(s, secrets_index()));
  if (io == nullptr) return;
  const std::string_view l(line);
  if (l.starts_with("CLIENT_TRAFFIC_SECRET_0 ")) {
    parse_secret(l, io->client_secret);
  } else if (l.starts_with("SERVER_TRAFFIC_SECRET_0 ")) {
    parse_secret(l, io->server_secret);
  }
}

void session::try_handoff(std::size_t written_from) {
  detail::session_buffers& io = *io_;
  SSL* s = ssl_.get();
  const SSL_CIPHER* cipher = SSL_get_current_cipher(s);
  const detail::handshake_end end{
      ctx_->is_server(), SSL_version(s) == TLS1_3_VERSION, SSL_has_pending(s) != 0,
      static_cast<std::uint16_t>(cipher != nullptr ? SSL_CIPHER_get_protocol_id(cipher) : 0),
      std::span<const std::byte>(io.out).subspan(written_from)};
  // The secrets move out of the key-log buffers (which are wiped by the move) and into the
  // record layer, or are wiped inside hand_over() if the session stays with OpenSSL.
  detail::handover h =
      detail::hand_over(end, std::move(io.client_secret), std::move(io.server_secret));
  if (!h.layer) return;
  fast_ = std::move(h.layer);
  // OpenSSL's part is over: keep the handshake's facts and free the SSL object (its record
  // buffers, cipher contexts and session: most of an idle connection's memory otherwise).
  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(s, &alpn, &alpn_len);
  if (alpn != nullptr) facts_.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
  if (const char* sni = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name)) facts_.sni = sni;
  facts_.resumed = SSL_session_reused(s) != 0;
  facts_.version = SSL_get_version(s);  // static strings of OpenSSL's tables
  facts_.cipher = SSL_CIPHER_get_name(cipher);
  SSL_set_shutdown(s, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);  // see ~session
  ssl_.reset();
}

status session::fail_fast(const char* why) {
  ERR_clear_error();  // a failed AEAD may have queued OpenSSL errors: keep them from others
  code_ = error::protocol;
  message_ = "tls: ";
  message_ += why;
  final_ = status::error;
  return final_;
}

read_result session::fast_read(std::span<std::byte> out) {
  detail::session_buffers& io = *io_;
  vector_sink control(io.out);  // alerts and KeyUpdates queue behind pending ciphertext
  std::size_t total = 0;
  auto give_plain = [&] {  // leftover plaintext of an earlier record first
    const std::size_t n = std::min(io.plain.size() - io.plain_off, out.size() - total);
    std::memcpy(out.data() + total, io.plain.data() + io.plain_off, n);
    total += n;
    io.plain_off += n;
    if (io.plain_off == io.plain.size()) io.plain.clear(), io.plain_off = 0;
  };
  if (!io.plain.empty()) give_plain();
  bool starved = false;
  while (total < out.size() && final_ == status::ok) {
    const bool from_in = io.in_off != io.in.size();
    const std::span<const std::byte> src =
        from_in ? std::span<const std::byte>(io.in).subspan(io.in_off) : io.borrowed;
    record_layer::step st = fast_->read(src, out.subspan(total), control);
    if (st.kind == record_layer::step_kind::need_room) {
      io.plain.resize(st.need);
      st = fast_->read(src, io.plain, control);
      io.plain.resize(st.kind == record_layer::step_kind::data ? st.bytes : 0);
    }
    if (from_in) {
      io.in_off += st.consumed;
      if (io.in_off == io.in.size()) io.in.clear(), io.in_off = 0;
    } else {
      io.borrowed = io.borrowed.subspan(st.consumed);
    }
    switch (st.kind) {
      case record_layer::step_kind::need_more:
      case record_layer::step_kind::need_room:  // cannot happen after the retry above
        starved = true;
        break;
      case record_layer::step_kind::data:
        if (io.plain.empty()) {
          total += st.bytes;
        } else {
          give_plain();
        }
        continue;
      case record_layer::step_kind::closed:
        peer_closed_ = true;
        final_ = status::closed;
        break;
      case record_layer::step_kind::error:
        fail_fast(fast_->error_reason());
        break;
    }
    break;
  }
  if (starved && eof_ && final_ == status::ok) {
    code_ = error::truncated;
    message_ = "tls: EOF without close_notify";
    final_ = status::truncated;
  }
  if (total > 0) return {total, status::ok};
  return {0, final_ == status::ok ? status::want_more : final_};
}

}  // namespace ns::tls
