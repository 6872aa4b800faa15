// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// `ns::tls::session`: one TLS connection as a sans-IO state machine. Ciphertext goes in with
/// `feed`, plaintext comes out of `read`; plaintext goes in with `write`, ciphertext comes out
/// of `take_ciphertext` / `peek_ciphertext`. No socket, no ring, no clock.
///
/// **Drain rule.** After EVERY call that drives OpenSSL (`read`, `write`, `shutdown`,
/// `handshake`) ciphertext may be waiting — handshake flights, session tickets, alerts,
/// close_notify — even when `read` returned `want_more` or `error` (a fatal alert is queued
/// then). The caller must check `pending_ciphertext()` and send it.

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tls/context.hpp"

typedef struct ssl_st SSL;                  // NOLINT: OpenSSL's forward declaration
typedef struct ssl_session_st SSL_SESSION;  // NOLINT

namespace ns::tls {

namespace detail {
struct session_buffers;
}
class record_layer;
struct record_state;
struct moved_session;

/// Outcome of `read` / `write`.
enum class status {
  ok,         ///< progress: `bytes` plaintext produced / consumed
  want_more,  ///< needs more ciphertext (read) / handshake not finished yet (write)
  closed,     ///< the peer sent close_notify (read) or we already shut down (write)
  truncated,  ///< transport EOF without close_notify (after `on_transport_eof`)
  error,      ///< fatal; `last_error()` says why; send pending ciphertext (alert) and close
};

/// Error classes of a session, each with a static reason (see `reason`).
enum class error {
  none,
  handshake_failed,   ///< fatal error before the handshake completed
  protocol,           ///< fatal error after the handshake (bad record, bad MAC, …)
  truncated,          ///< EOF without close_notify (RFC 8446 §6.1)
  write_after_close,  ///< `write` after `shutdown` or after the peer closed
};

/// Static reason string of @p e.
const char* reason(error e) noexcept;

/// Result of `read`: plaintext bytes written to the output span, and the status.
struct read_result {
  std::size_t bytes = 0;
  status st = status::want_more;
};

/// Result of `write`: plaintext bytes consumed (all of them when `ok`), and the status.
struct write_result {
  std::size_t bytes = 0;
  status st = status::ok;
};

/// A resumable client session (TLS 1.2 session/ticket or TLS 1.3 ticket). Shareable, immutable.
using saved_session = std::shared_ptr<SSL_SESSION>;

/// Client-role parameters.
struct client_params {
  std::string server_name;        ///< SNI and, if the context verifies, the expected host
  std::vector<std::string> alpn;  ///< offered protocols in preference order
  saved_session resume;           ///< session to resume (from `saved()` of an earlier session)
};

/// A caller's buffer that `session::write` can put ciphertext into directly (saving the copy
/// out of the session's own buffer, and that buffer).
class ciphertext_sink {
 public:
  /// Room for @p n more bytes at the end of the buffer.
  virtual std::span<std::byte> prepare(std::size_t n) = 0;
  /// @p n bytes of the room were written. Called once after each prepare(); commit(0)
  /// abandons the room (the buffer is as it was before prepare()).
  virtual void commit(std::size_t n) = 0;

 protected:
  ~ciphertext_sink() = default;
};

/// A `ciphertext_sink` appending to a byte vector (a session's own buffer, tests, fuzzing).
class vector_sink final : public ciphertext_sink {
 public:
  explicit vector_sink(std::vector<std::byte>& v) : v_(v) {}
  std::span<std::byte> prepare(std::size_t n) override {
    from_ = v_.size();
    v_.resize(from_ + n);
    return {v_.data() + from_, n};
  }
  void commit(std::size_t n) override { v_.resize(from_ + n); }

 private:
  std::vector<std::byte>& v_;
  std::size_t from_ = 0;
};

/// One TLS connection (server or client role) over in-memory buffers.
/// Movable, not copyable. Not thread-safe: one thread drives a session at a time.
/// Every `std::span`/`std::string_view` returned is valid until the next non-const call.
class session {
 public:
  /// Server role: handshakes with @p ctx (must be a server context, not null).
  explicit session(std::shared_ptr<const context> ctx);
  /// Client role. The ClientHello is produced by the first `handshake()` / `read()` call.
  session(std::shared_ptr<const context> ctx, const client_params& params);
  /// Server role: continues a TLS 1.3 session that another process exported with
  /// `export_moved` (a live connection moved on an upgrade): no handshake, records protected by
  /// `record_layer` from the first byte; the ciphertext it had not decrypted is read first.
  /// Takes the secrets out of @p moved.
  /// Throws std::invalid_argument if @p ctx is not a server context.
  session(std::shared_ptr<const context> ctx, moved_session&& moved);
  ~session();
  session(session&&) noexcept;
  session& operator=(session&&) noexcept;

  /// Appends received ciphertext (copied). Any size; a record may span many calls.
  void feed(std::span<const std::byte> ciphertext);
  /// Tells the session the transport reached EOF: a later `read` that would need more input
  /// returns `truncated` instead of `want_more` (unless close_notify arrived first).
  void on_transport_eof();

  /// Drives the handshake, then decrypts into @p out (as much as is available, up to its size).
  /// `ok` always carries bytes > 0; `want_more` means no plaintext yet (check
  /// `handshake_done()` to see whether the handshake completed). Plaintext decrypted before a
  /// close_notify / error is returned first (`ok`); the terminal status comes on the next call
  /// and then stays (`closed`, `truncated`, `error`).
  read_result read(std::span<std::byte> out);

  /// `feed(ciphertext)` + `read(out)` without copying the ciphertext that is decrypted right
  /// away: OpenSSL reads straight from @p ciphertext, and only what is left unconsumed when
  /// this returns (a partial record, or input beyond what fits in @p out) is copied inside.
  /// @p ciphertext need not outlive the call (a ring buffer can be recycled right after).
  read_result read(std::span<const std::byte> ciphertext, std::span<std::byte> out);

  /// Drives the handshake only (useful for the client role to emit its ClientHello):
  /// `ok` once complete, else `want_more` or a terminal status.
  status handshake();

  /// Encrypts all of @p plaintext into pending ciphertext (records of ≤ 16 KiB). Before the
  /// handshake completes it writes nothing and returns `want_more` (the server only writes
  /// after it read a request, so it never hits this; no plaintext is buffered here).
  write_result write(std::span<const std::byte> plaintext);
  /// `write`, with the ciphertext this call produces appended to @p sink instead of being kept
  /// in the session — when no ciphertext is pending (else it queues behind that, as `write`
  /// does, and the caller drains as usual).
  write_result write(std::span<const std::byte> plaintext, ciphertext_sink& sink);

  /// Queues close_notify (RFC 8446 §6.1); drain ciphertext afterwards. Idempotent.
  void shutdown();

  /// Bytes of ciphertext waiting to be sent.
  std::size_t pending_ciphertext() const;
  /// Moves up to `out.size()` pending ciphertext bytes into @p out; returns how many.
  std::size_t take_ciphertext(std::span<std::byte> out);
  /// Zero-copy view of all pending ciphertext; valid until the next non-const call.
  std::span<const std::byte> peek_ciphertext() const;
  /// Drops the first @p n bytes of pending ciphertext (after sending them from `peek`).
  void consume_ciphertext(std::size_t n);
  /// Frees the session's idle buffers (input/output) when they are empty. Call when the
  /// connection goes idle; OpenSSL's own record buffers are freed by SSL_MODE_RELEASE_BUFFERS.
  void release_buffers();

  /// Heap bytes this session holds (memory accounting): its buffers by capacity, plus, while
  /// OpenSSL drives it, `ssl_state_bytes` for the SSL object, and after the hand-over the record
  /// layer with `cipher_context_bytes` per live cipher context. OpenSSL's share is an estimate:
  /// its allocations are not attributed per object (memory_test.cpp measures it).
  [[nodiscard]] std::size_t memory_bytes() const noexcept;
  /// What an SSL object holds from the ClientHello until the hand-over (its handshake state,
  /// key share, record buffers): 44,138 bytes per session measured with the heap counter over
  /// 200 server sessions with their first flight written (TLS 1.3, X25519, OpenSSL 3;
  /// tests/unit/tls/memory_test.cpp keeps the accounting within ±50 % of what it measures).
  static constexpr std::size_t ssl_state_bytes = 44 * 1024;
  /// One EVP_CIPHER_CTX of the record layer: 1,144 bytes measured likewise (AES-128-GCM).
  static constexpr std::size_t cipher_context_bytes = 1152;

  /// Fills @p out with what the connection needs to continue in another process, when it can
  /// move: a handed-over TLS 1.3 session between records, with no plaintext held back, no
  /// ciphertext waiting to be sent, nothing closed or failed. Ciphertext received and not yet
  /// decrypted is appended to `out.input`. False (nothing can move) otherwise.
  [[nodiscard]] bool export_moved(moved_session& out) const;
  bool handshake_done() const;
  /// True once the session's records are protected by `record_layer` instead of OpenSSL's
  /// record layer (a TLS 1.3 server session after its handshake; see record_layer.hpp).
  bool handed_over() const { return fast_ != nullptr; }
  bool peer_closed() const;
  /// Negotiated ALPN protocol, empty if none.
  std::string_view alpn() const;
  /// SNI name the client sent (server role) / requested (client role), empty if none.
  std::string_view server_name() const;
  /// True if the handshake resumed an earlier session (ticket or session id).
  bool resumed() const;
  /// Protocol version text ("TLSv1.3", "TLSv1.2", …).
  const char* version() const;
  /// Negotiated cipher suite name ("TLS_AES_128_GCM_SHA256", …), "(NONE)" before the handshake.
  const char* cipher_name() const;
  /// Client role: the session to resume later (null if none yet). With TLS 1.3 the ticket
  /// arrives after the handshake: call after a `read` that processed it.
  saved_session saved() const;

  /// Error class of the last fatal error (`none` if none).
  error last_error_code() const { return code_; }
  /// One-line message of the last fatal error incl. OpenSSL's reason; empty if none.
  const std::string& last_error() const { return message_; }

  /// The underlying SSL* (for diagnostics; do not drive it directly). Null once handed over:
  /// the SSL object is freed then (use the accessors above).
  SSL* native_handle() const { return ssl_.get(); }

 private:
  void init(bool server);
  status fail(error e, const char* what);
  status fail_fast(const char* why);
  status drive_handshake();
  void try_handoff(std::size_t written_from);
  read_result fast_read(std::span<std::byte> out);

  struct ssl_deleter {
    void operator()(SSL* s) const noexcept;
  };

  std::shared_ptr<const context> ctx_;
  std::unique_ptr<SSL, ssl_deleter> ssl_;
  std::unique_ptr<detail::session_buffers> io_;
  // Set once a TLS 1.3 server handshake is done: records are then protected here, not by
  // OpenSSL (record_layer.hpp). The SSL object stays for the handshake's facts (ALPN, SNI, …).
  std::unique_ptr<record_layer> fast_;
  struct handshake_facts {  // what the accessors answer once the SSL object is gone
    std::string alpn;
    std::string sni;
    const char* version = "";
    const char* cipher = "";
    bool resumed = false;
  } facts_;
  status final_ = status::ok;  // sticky terminal status once closed/truncated/error
  error code_ = error::none;
  std::string message_;
  bool eof_ = false;
  bool shutdown_sent_ = false;
  bool peer_closed_ = false;
};

/// True if @p first_bytes (the first bytes of a connection) look like a plaintext HTTP request
/// (an upper-case method token) rather than a TLS record (content type 0x16 = handshake). The
/// server can then answer a plaintext "400 Bad Request" before closing. False on empty input.
bool looks_like_plain_http(std::span<const std::byte> first_bytes) noexcept;

}  // namespace ns::tls
