// SPDX-License-Identifier: MIT
// Sans-IO TLS session.
//
// Technique: the SSL* is bound to two BIOs of our own minimal BIO type instead of BIO_s_mem.
// The read BIO hands OpenSSL bytes from `buffers::in` (filled by `feed`) and reports "retry"
// when it is empty, which surfaces as SSL_ERROR_WANT_READ; the write BIO appends every record
// OpenSSL produces to `buffers::out`, which the caller drains with take/peek/consume. Owning
// the buffers gives the caller a zero-copy view of pending ciphertext and lets idle sessions
// free them (BIO_s_mem keeps its high-water allocation). Before every SSL_* call the
// per-thread error queue is cleared and after every failure it is drained into this session's
// message, so one connection's errors never show up on another.
//
// Files: session.cpp (set-up, handshake, OpenSSL's read/write, shutdown, accessors),
// session_bio.cpp (the BIO type), session_handover.cpp (TLS 1.3 hand-over to record_layer and
// the reads after it).
#include "tls/session.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "tls/callbacks.hpp"
#include "tls/openssl_ptr.hpp"
#include "tls/record_layer.hpp"
#include "tls/session_buffers.hpp"

namespace ns::tls {

using detail::bio_method;
using detail::clear_stale_errors;
using detail::secrets_index;

namespace {

// A drained output buffer larger than this is freed rather than kept for reuse, so one large
// response does not pin its size for the connection's lifetime.
constexpr std::size_t keep_capacity = 64 * 1024;

}  // namespace

void session::ssl_deleter::operator()(SSL* s) const noexcept {
  SSL_free(s);
}

const char* reason(error e) noexcept {
  switch (e) {
    case error::none:
      return "no error";
    case error::handshake_failed:
      return "TLS handshake failed";
    case error::protocol:
      return "TLS protocol error";
    case error::truncated:
      return "connection closed without close_notify";
    case error::write_after_close:
      return "write after TLS shutdown";
  }
  return "unknown TLS error";
}

session::session(std::shared_ptr<const context> ctx) : ctx_(std::move(ctx)) {
  if (!ctx_ || !ctx_->is_server())
    throw std::invalid_argument("tls: server session needs a server context");
  init(true);
}

session::session(std::shared_ptr<const context> ctx, const client_params& params)
    : ctx_(std::move(ctx)) {
  if (!ctx_ || ctx_->is_server())
    throw std::invalid_argument("tls: client session needs a client context");
  init(false);
  SSL* s = ssl_.get();
  if (!params.server_name.empty()) {
    SSL_set_tlsext_host_name(s, params.server_name.c_str());
    if ((SSL_CTX_get_verify_mode(ctx_->native_handle()) & SSL_VERIFY_PEER) != 0) {
      SSL_set1_host(s, params.server_name.c_str());
    }
  }
  if (!params.alpn.empty()) {
    std::vector<unsigned char> wire;  // RFC 7301 §3.1: length-prefixed names
    for (const auto& p : params.alpn) {
      if (p.empty() || p.size() > 255) throw std::invalid_argument("tls: bad ALPN name");
      wire.push_back(static_cast<unsigned char>(p.size()));
      wire.insert(wire.end(), p.begin(), p.end());
    }
    SSL_set_alpn_protos(s, wire.data(), static_cast<unsigned int>(wire.size()));
  }
  if (params.resume) SSL_set_session(s, params.resume.get());
  ERR_clear_error();
}

void session::init(bool server) {
  io_ = std::make_unique<detail::session_buffers>();
  ERR_clear_error();
  ssl_.reset(SSL_new(ctx_->native_handle()));
  BIO* r = BIO_new(bio_method());
  BIO* w = BIO_new(bio_method());
  // GCOVR_EXCL_START: SSL_new/BIO_new on a valid context fail only on allocation failure.
  if (!ssl_ || r == nullptr || w == nullptr) {
    BIO_free(r);
    BIO_free(w);
    throw std::runtime_error(detail::drain_errors("tls: SSL_new"));
  }
  // GCOVR_EXCL_STOP
  BIO_set_data(r, io_.get());
  BIO_set_data(w, io_.get());
  SSL_set_bio(ssl_.get(), r, w);  // the SSL owns both BIOs from here
  if (server) {
    SSL_set_ex_data(ssl_.get(), secrets_index(), io_.get());
    SSL_set_accept_state(ssl_.get());
  } else {
    SSL_set_connect_state(ssl_.get());
  }
}

session::~session() {
  // OpenSSL invalidates the cached session of an SSL freed without close_notify (the old
  // RFC 5246 §7.2.1 rule). Connections usually end by EOF or idle timeout without one, and
  // TLS 1.3 (RFC 8446 §6.1) dropped the rule, so mark them shut down unless a fatal error
  // occurred: only then should the session not be resumed.
  if (ssl_ && final_ != status::error) {
    SSL_set_shutdown(ssl_.get(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  }
}
session::session(session&&) noexcept = default;
session& session::operator=(session&&) noexcept = default;

void session::feed(std::span<const std::byte> ciphertext) {
  auto& in = io_->in;
  if (io_->in_off != 0) {  // drop consumed bytes first (at most one partial record remains)
    in.erase(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(io_->in_off));
    io_->in_off = 0;
  }
  in.insert(in.end(), ciphertext.begin(), ciphertext.end());
}

void session::on_transport_eof() {
  eof_ = true;
}

status session::fail(error e, const char* what) {
  // A handshake that fails never hands over: its traffic secrets, if the key log delivered
  // them, are wiped now rather than when the connection object goes.
  io_->client_secret.clear();
  io_->server_secret.clear();
  code_ = e;
  message_ = detail::drain_errors(what);
  if (e == error::handshake_failed && !ctx_->is_server()) {
    const long v = SSL_get_verify_result(ssl_.get());
    if (v != X509_V_OK) {
      message_ += " (certificate verify: ";
      message_ += X509_verify_cert_error_string(v);
      message_ += ')';
    }
  }
  final_ = e == error::truncated ? status::truncated : status::error;
  return final_;
}

status session::drive_handshake() {
  const int r = SSL_do_handshake(ssl_.get());
  if (r == 1) return status::ok;
  const int e = SSL_get_error(ssl_.get(), r);
  if (e == SSL_ERROR_WANT_READ) {
    if (eof_) return fail(error::truncated, "tls: EOF during handshake");
    return status::want_more;
  }
  return fail(error::handshake_failed, "tls: handshake failed");
}

status session::handshake() {
  if (final_ != status::ok) return final_;
  if (fast_ || SSL_is_init_finished(ssl_.get())) return status::ok;
  clear_stale_errors();
  return drive_handshake();
}

read_result session::read(std::span<std::byte> out) {
  if (final_ != status::ok) return {0, final_};
  if (fast_) return fast_read(out);
  clear_stale_errors();
  if (!SSL_is_init_finished(ssl_.get())) {
    const std::size_t written_from = io_->out.size();
    const status st = drive_handshake();
    if (st != status::ok) return {0, st};
    try_handoff(written_from);
    if (fast_) return fast_read(out);
  }
  std::size_t total = 0;
  while (total < out.size()) {
    std::size_t n = 0;
    const int r = SSL_read_ex(ssl_.get(), out.data() + total, out.size() - total, &n);
    if (r == 1) {
      total += n;
      continue;
    }
    const int e = SSL_get_error(ssl_.get(), r);
    if (e == SSL_ERROR_WANT_READ) {
      if (eof_) fail(error::truncated, "tls: EOF without close_notify");
    } else if (e == SSL_ERROR_ZERO_RETURN) {
      final_ = status::closed;  // RFC 8446 §6.1 close_notify
    } else {
      fail(error::protocol, "tls: read failed");
    }
    break;
  }
  if (total > 0) return {total, status::ok};
  return {0, final_ == status::ok ? status::want_more : final_};
}

read_result session::read(std::span<const std::byte> ciphertext, std::span<std::byte> out) {
  if (io_->in.size() != io_->in_off) {  // earlier bytes must be read first: append (copy)
    feed(ciphertext);
    return read(out);
  }
  io_->borrowed = ciphertext;
  const read_result r = read(out);
  // Keep what OpenSSL has not consumed; nothing borrowed survives this call.
  const auto rest = io_->borrowed;
  io_->borrowed = {};
  if (!rest.empty() && final_ == status::ok) feed(rest);  // after an end, input is moot
  return r;
}

write_result session::write(std::span<const std::byte> plaintext) {
  if (final_ == status::error) return {0, status::error};
  if (shutdown_sent_) {
    code_ = error::write_after_close;
    message_ = reason(code_);
    return {0, status::closed};
  }
  if (fast_) {
    vector_sink own(io_->out);
    if (!fast_->write(plaintext, io_->sink != nullptr ? *io_->sink : own)) {
      return {0, fail_fast("write failed")};
    }
    return {plaintext.size(), status::ok};
  }
  clear_stale_errors();
  if (!SSL_is_init_finished(ssl_.get())) {
    const status st = drive_handshake();
    if (st != status::ok) return {0, st};
  }
  if (plaintext.empty()) return {0, status::ok};
  std::size_t n = 0;
  if (SSL_write_ex(ssl_.get(), plaintext.data(), plaintext.size(), &n) == 1) {
    return {n, status::ok};
  }
  return {0, fail(error::protocol, "tls: write failed")};
}

write_result session::write(std::span<const std::byte> plaintext, ciphertext_sink& sink) {
  if (pending_ciphertext() != 0) return write(plaintext);  // keep the order of the records
  io_->sink = &sink;
  const write_result r = write(plaintext);
  io_->sink = nullptr;
  return r;
}

void session::shutdown() {
  if (shutdown_sent_) return;
  shutdown_sent_ = true;
  // close_notify is only meaningful once the handshake is done; before that we simply close.
  if (final_ == status::error) return;
  if (fast_) {
    vector_sink own(io_->out);
    fast_->close(own);
    return;
  }
  if (!SSL_is_init_finished(ssl_.get())) return;
  ERR_clear_error();
  SSL_shutdown(ssl_.get());  // 0 = sent, peer's not yet received: fine, we do not wait
  ERR_clear_error();
}

std::size_t session::pending_ciphertext() const {
  return io_->out.size() - io_->out_off;
}

std::span<const std::byte> session::peek_ciphertext() const {
  return {io_->out.data() + io_->out_off, pending_ciphertext()};
}

void session::consume_ciphertext(std::size_t n) {
  io_->out_off += std::min(n, pending_ciphertext());
  if (io_->out_off == io_->out.size()) {
    io_->out_off = 0;
    if (io_->out.capacity() > keep_capacity) {
      std::vector<std::byte>().swap(io_->out);
    } else {
      io_->out.clear();
    }
  }
}

std::size_t session::take_ciphertext(std::span<std::byte> out) {
  const std::size_t n = std::min(out.size(), pending_ciphertext());
  if (n != 0) std::memcpy(out.data(), io_->out.data() + io_->out_off, n);
  consume_ciphertext(n);
  return n;
}

std::size_t session::memory_bytes() const noexcept {
  const auto heap = [](const std::string& s) {
    return s.capacity() > std::string().capacity() ? s.capacity() : 0;
  };
  if (!io_) return 0;  // moved from
  std::size_t n = sizeof(detail::session_buffers) + io_->in.capacity() + io_->out.capacity() +
                  io_->plain.capacity() + heap(facts_.alpn) + heap(facts_.sni) + heap(message_);
  if (ssl_) n += ssl_state_bytes;
  if (fast_) n += sizeof(record_layer) + fast_->live_contexts() * cipher_context_bytes;
  return n;
}

void session::release_buffers() {
  if (fast_) fast_->release_idle();
  if (io_->plain.empty()) std::vector<std::byte>().swap(io_->plain);
  if (io_->in.size() == io_->in_off) std::vector<std::byte>().swap(io_->in), io_->in_off = 0;
  if (io_->out.size() == io_->out_off) std::vector<std::byte>().swap(io_->out), io_->out_off = 0;
}

bool session::handshake_done() const {
  return fast_ || SSL_is_init_finished(ssl_.get()) != 0;
}

bool session::peer_closed() const {
  if (fast_) return peer_closed_;
  return (SSL_get_shutdown(ssl_.get()) & SSL_RECEIVED_SHUTDOWN) != 0;
}

std::string_view session::alpn() const {
  if (!ssl_) return facts_.alpn;
  const unsigned char* p = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_.get(), &p, &len);
  return p != nullptr ? std::string_view(reinterpret_cast<const char*>(p), len)
                      : std::string_view{};
}

std::string_view session::server_name() const {
  if (!ssl_) return facts_.sni;
  const char* n = SSL_get_servername(ssl_.get(), TLSEXT_NAMETYPE_host_name);
  return n != nullptr ? std::string_view(n) : std::string_view{};
}

bool session::resumed() const {
  if (!ssl_) return facts_.resumed;
  return SSL_session_reused(ssl_.get()) != 0;
}

const char* session::version() const {
  if (!ssl_) return facts_.version;
  return SSL_get_version(ssl_.get());
}

const char* session::cipher_name() const {
  if (!ssl_) return facts_.cipher;
  return SSL_get_cipher_name(ssl_.get());
}

saved_session session::saved() const {
  if (!ssl_) return nullptr;  // handed over: a server session, which saves nothing
  SSL_SESSION* s = SSL_get1_session(ssl_.get());
  if (s == nullptr) return nullptr;
  if (SSL_SESSION_is_resumable(s) == 0) {
    SSL_SESSION_free(s);
    return nullptr;
  }
  return saved_session(s, SSL_SESSION_free);
}

}  // namespace ns::tls
