// SPDX-License-Identifier: MIT
// The hand-over of a TLS 1.3 server session from OpenSSL to our record layer: the traffic
// secrets come from the key log callback, the records OpenSSL wrote while finishing the
// handshake fix the sequence number we continue from (proved by opening the last of them), and
// then the SSL object is freed; afterwards every record is read here (fast_read).
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "tls/callbacks.hpp"
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
    if (hi < 0 || lo < 0) return false;
    out.bytes[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  out.size = hex.size() / 2;
  return true;
}

// The protected (application_data) records that @p bytes consists of exactly: how many, and
// the last one (empty if none); nullopt if @p bytes is anything else.
struct record_run {
  std::uint64_t count = 0;
  std::span<const std::byte> last;
};
std::optional<record_run> protected_records(std::span<const std::byte> bytes) noexcept {
  record_run run;
  while (!bytes.empty()) {
    if (bytes.size() < record_layer::header_size || bytes[0] != std::byte{23}) return std::nullopt;
    const std::size_t size =
        record_layer::header_size +
        ((std::to_integer<std::size_t>(bytes[3]) << 8) | std::to_integer<std::size_t>(bytes[4]));
    if (bytes.size() < size) return std::nullopt;
    run.last = bytes.first(size);
    bytes = bytes.subspan(size);
    ++run.count;
  }
  return run;
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
  const traffic_secret client = io.client_secret;
  const traffic_secret server = io.server_secret;
  OPENSSL_cleanse(io.client_secret.bytes.data(), io.client_secret.bytes.size());
  OPENSSL_cleanse(io.server_secret.bytes.data(), io.server_secret.bytes.size());
  io.client_secret.size = io.server_secret.size = 0;
  SSL* s = ssl_.get();
  if (!ctx_->is_server() || SSL_version(s) != TLS1_3_VERSION || SSL_has_pending(s) != 0) return;
  const SSL_CIPHER* cipher = SSL_get_current_cipher(s);
  const std::optional<suite> st =
      cipher != nullptr ? suite_from_code(SSL_CIPHER_get_protocol_id(cipher)) : std::nullopt;
  if (!st || client.size != secret_size(*st) || server.size != secret_size(*st)) return;
  // What OpenSSL wrote while finishing the handshake (the session tickets) is protected with
  // our application key already: those records set the sequence number we continue from.
  const auto written = std::span<const std::byte>(io.out).subspan(written_from);
  const std::optional<record_run> records = protected_records(written);
  if (!records) return;
  auto layer = std::make_unique<record_layer>(*st, client, server, records->count);
  // Proof rather than assumption: the last of them must open under the key and sequence
  // number we are about to use, or the hand-over is skipped (OpenSSL keeps the session).
  if (records->count > 0 && !layer->wrote(records->last, records->count - 1)) return;
  fast_ = std::move(layer);
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
