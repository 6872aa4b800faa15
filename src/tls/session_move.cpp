// SPDX-License-Identifier: MIT
// A handed-over TLS 1.3 session out of one process and into another (a live connection moving
// on an upgrade, issue 20 §2). Only a session our record layer drives can move: OpenSSL's
// state (TLS 1.2, a handshake in progress) is not ours to serialise, so those drain instead.
#include <openssl/crypto.h>

#include <stdexcept>

#include "tls/moved_session.hpp"
#include "tls/record_layer.hpp"
#include "tls/session.hpp"
#include "tls/session_buffers.hpp"

namespace ns::tls {
namespace {

// OpenSSL's own names for what the accessors report once the SSL object is gone.
const char* suite_name(suite s) noexcept {
  switch (s) {
    case suite::aes_128_gcm_sha256:
      return "TLS_AES_128_GCM_SHA256";
    case suite::aes_256_gcm_sha384:
      return "TLS_AES_256_GCM_SHA384";
    case suite::chacha20_poly1305_sha256:
      return "TLS_CHACHA20_POLY1305_SHA256";
  }
  return "(NONE)";
}

}  // namespace

session::session(std::shared_ptr<const context> ctx, moved_session&& moved)
    : ctx_(std::move(ctx)) {
  if (!ctx_ || !ctx_->is_server())
    throw std::invalid_argument("tls: a moved session needs a server context");
  io_ = std::make_unique<detail::session_buffers>();
  io_->in = std::move(moved.input);
  const suite cipher = moved.records.cipher;
  fast_ = std::make_unique<record_layer>(std::move(moved.records));
  facts_.alpn = moved.alpn;
  facts_.sni = moved.sni;
  facts_.resumed = moved.resumed;
  facts_.version = "TLSv1.3";
  facts_.cipher = suite_name(cipher);
}

bool session::export_moved(moved_session& out) const {
  const detail::session_buffers& io = *io_;
  if (!fast_ || final_ != status::ok || shutdown_sent_ || eof_) return false;
  if (!io.plain.empty() || pending_ciphertext() != 0 || !io.borrowed.empty()) return false;
  if (!fast_->export_state(out.records)) return false;
  out.input.insert(out.input.end(), io.in.begin() + static_cast<std::ptrdiff_t>(io.in_off),
                   io.in.end());
  out.alpn = facts_.alpn;
  out.sni = facts_.sni;
  out.resumed = facts_.resumed;
  return true;
}

}  // namespace ns::tls
