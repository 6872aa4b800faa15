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

namespace ns::tls {

struct detail::session_buffers {
  std::vector<std::byte> in;
  std::size_t in_off = 0;
  std::span<const std::byte> borrowed;  // caller's ciphertext, read after `in`, during one call
  std::vector<std::byte> out;
  std::size_t out_off = 0;
  ciphertext_sink* sink = nullptr;  // during write(plaintext, sink): records go there
  // Handed-over sessions: plaintext of a record that did not fit the caller's buffer.
  std::vector<std::byte> plain;
  std::size_t plain_off = 0;
  // TLS 1.3 application traffic secrets from the key log callback, until the hand-over.
  traffic_secret client_secret;
  traffic_secret server_secret;
};

namespace {

// A drained output buffer larger than this is freed rather than kept for reuse, so one large
// response does not pin its size for the connection's lifetime.
constexpr std::size_t keep_capacity = 64 * 1024;

int bio_read(BIO* b, char* data, std::size_t len, std::size_t* done) {
  auto* io = static_cast<detail::session_buffers*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  const std::size_t avail = io->in.size() - io->in_off;
  if (avail == 0 && !io->borrowed.empty()) {  // zero-copy path: read the caller's bytes
    const std::size_t n = std::min(io->borrowed.size(), len);
    std::memcpy(data, io->borrowed.data(), n);
    io->borrowed = io->borrowed.subspan(n);
    *done = n;
    return 1;
  }
  if (avail == 0) {
    BIO_set_retry_read(b);  // "would block": OpenSSL reports SSL_ERROR_WANT_READ
    *done = 0;
    return 0;
  }
  const std::size_t n = std::min(avail, len);
  std::memcpy(data, io->in.data() + io->in_off, n);
  io->in_off += n;
  if (io->in_off == io->in.size()) {
    io->in.clear();
    io->in_off = 0;
  }
  *done = n;
  return 1;
}

int bio_write(BIO* b, const char* data, std::size_t len, std::size_t* done) {
  auto* io = static_cast<detail::session_buffers*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  const auto* p = reinterpret_cast<const std::byte*>(data);
  if (io->sink != nullptr) {
    std::memcpy(io->sink->prepare(len).data(), p, len);
    io->sink->commit(len);
  } else {
    io->out.insert(io->out.end(), p, p + len);
  }
  *done = len;
  return 1;
}

long bio_ctrl(BIO*, int cmd, long, void*) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;  // nothing to flush; everything else unsupported
}

int bio_create(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

const BIO_METHOD* bio_method() {
  // Created once per process (thread-safe static init) and never freed.
  static BIO_METHOD* const m = [] {
    BIO_METHOD* bm = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ns_tls_buffer");
    // GCOVR_EXCL_START: BIO_meth_* fail only on allocation failure (once per process).
    if (bm == nullptr || BIO_meth_set_read_ex(bm, bio_read) != 1 ||
        BIO_meth_set_write_ex(bm, bio_write) != 1 || BIO_meth_set_ctrl(bm, bio_ctrl) != 1 ||
        BIO_meth_set_create(bm, bio_create) != 1) {
      throw std::runtime_error("tls: cannot create BIO method");
    }
    // GCOVR_EXCL_STOP
    return bm;
  }();
  return m;
}

int secrets_index() {
  static const int i = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return i;
}

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

// The per-thread error queue must be empty before an SSL_* call (SSL_get_error reads it).
// It almost always is: peeking is a load, while ERR_clear_error walks all its slots, and it ran
// on every read and write (about 2 % of the server's time on small requests).
void clear_stale_errors() noexcept {
  if (ERR_peek_error() != 0) ERR_clear_error();
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
