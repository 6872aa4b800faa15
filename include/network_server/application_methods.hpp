// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The callbacks an application overrides to receive events from a `network_server`.
///
/// Every callback runs on the server's loop thread, one at a time. A callback may call any
/// `network_server` method, including closing the very connection it is called for; the
/// connection's state is released only after the callback returns. Callbacks must not block.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <sys/uio.h>

#include <network_server/http_request.hpp>
#include <network_server/types.hpp>

namespace ns {

class network_server;

/// Kind of a WebSocket data message (RFC 6455 §5.6).
enum class ws_message_type : std::uint8_t {
  text = 1,    ///< UTF-8 text (validated on receipt; the sender must send valid UTF-8)
  binary = 2,  ///< arbitrary bytes
};

/// The application's answer to a WebSocket upgrade request.
struct ws_accept_decision {
  bool accept = false;  ///< true: switch the connection to WebSocket (101)
  /// Subprotocol to confirm in Sec-WebSocket-Protocol: one of the client's offers (others are
  /// ignored), or empty for none (RFC 6455 §4.2.2).
  std::string subprotocol;
  int reject_status = 404;  ///< when not accepted: the HTTP status to answer (then close)
};

/// A client's address, "ip:port" or "[ipv6]:port", looked up and formatted when first read:
/// a response log that never prints it costs no getpeername(2) and no formatting.
/// Converts to std::string_view; the text is valid while the callback that received it runs.
class peer_address {
 public:
  /// Looks the text up on first use: @p resolve(@p context) returns it and must stay valid
  /// for the callback (what the server passes).
  using resolver = std::string_view (*)(void* context);

  peer_address() = default;
  peer_address(std::string_view text) noexcept : text_(text) {}  // NOLINT: implicit, like a view
  peer_address(const char* text) noexcept : text_(text) {}       // NOLINT: implicit, like a view
  peer_address(resolver resolve, void* context) noexcept : resolve_(resolve), context_(context) {}

  [[nodiscard]] std::string_view str() const {
    if (resolve_ != nullptr) {
      text_ = resolve_(context_);
      resolve_ = nullptr;
    }
    return text_;
  }
  operator std::string_view() const { return str(); }  // NOLINT: implicit, like a view

 private:
  mutable std::string_view text_;
  mutable resolver resolve_ = nullptr;
  void* context_ = nullptr;
};

/// What the server knows of one response when it reports it to
/// `application_methods::http_response_log_callback` (for access logs).
struct http_response_info {
  int status = 0;           ///< status code of the response's status line (0: not recognised)
  std::uint64_t bytes = 0;  ///< plaintext bytes of the response, header block included
  peer_address peer;        ///< the client, "ip:port" (valid during the callback)
};

class application_methods {
 public:
  virtual ~application_methods() = default;

  /// A connection was accepted (before its TLS handshake). Called once per connection.
  virtual void accept_callback(client_num_t client_num) { (void)client_num; }

  /// A complete request arrived. Answer with `http_write`/`http_writev` (one call per response)
  /// or `http_close`; requests pipelined behind it are held until it is answered.
  virtual void http_read_callback(const http_request& request, client_num_t client_num) {
    (void)request;
    (void)client_num;
  }

  /// The bytes of one `http_write` have all been handed to the kernel (or failed: then
  /// @p failed_req is true and the connection is closing). Called exactly once per http_write.
  virtual void http_write_callback(client_num_t client_num, bool failed_req = false) {
    (void)client_num;
    (void)failed_req;
  }

  /// As `http_write_callback`, for `http_writev`; also the one outcome report of each
  /// `http_send_file` that returned 0 (the whole file response sent, or failed).
  virtual void http_writev_callback(client_num_t client_num, bool failed_req = false) {
    (void)client_num;
    (void)failed_req;
  }

  /// A response answering @p request has been queued completely — by `http_write`/`http_writev`,
  /// `http_send_file` or `http_end_chunked` — before the next pipelined request is handled.
  /// Once per answered request, for access logs and metrics (server-generated errors for
  /// unparsable requests are not reported here: there is no request). @p request and
  /// @p info.peer are valid during the call only. Must not block; do not write to the
  /// connection from here.
  virtual void http_response_log_callback(client_num_t client_num, const http_request& request,
                                          const http_response_info& info) {
    (void)client_num;
    (void)request;
    (void)info;
  }

  /// A request whose body is too large to arrive whole (over `http_limits::max_buffered_body`,
  /// or a chunked body that outgrows it) has arrived: @p request holds the headers, its body is
  /// empty. Return true to take it: ask for the body piece by piece with
  /// `network_server::http_post_read` (delivered to `http_body_callback`) and answer the request
  /// as usual, with one response. Return false (the default) and the server answers 413 and
  /// closes. A response written before the whole body was read closes the connection after it.
  virtual bool http_stream_callback(const http_request& request, client_num_t client_num) {
    (void)request;
    (void)client_num;
    return false;
  }

  /// The answer to one `http_post_read`: @p piece is the next part of the request body (valid
  /// until this returns). When the body is complete, one last call has @p last true and an empty
  /// piece. @p failed_req: the body was malformed (the server answers 400/413 and closes) or the
  /// connection closed first; @p last is then true too. Exactly once per http_post_read.
  virtual void http_body_callback(client_num_t client_num, std::span<const std::byte> piece,
                                  bool last, bool failed_req = false) {
    (void)client_num;
    (void)piece;
    (void)last;
    (void)failed_req;
  }

  /// The connection is ending because of an error — a TLS failure, a peer that closed without
  /// TLS close_notify (truncation), a protocol error, a reset. @p what is one line. Called at most
  /// once per connection, before its close callback.
  virtual void connection_error_callback(client_num_t client_num, std::string_view what) {
    (void)client_num;
    (void)what;
  }

  /// The connection is closed and its handle is no longer valid. Called exactly once per
  /// accepted HTTP connection, after every write callback of that connection.
  virtual void http_close_callback(client_num_t client_num) { (void)client_num; }

  /// `raw_read` finished: @p data is the filled prefix of the buffer given to raw_read (empty at
  /// end of file). Called exactly once per raw_read; on failure @p failed_req is true.
  virtual void raw_read_callback(std::span<std::byte> data, client_num_t client_num,
                                 bool failed_req = false) {
    (void)data;
    (void)client_num;
    (void)failed_req;
  }

  /// `raw_readv` finished: @p bytes were read into the iovecs given to raw_readv.
  virtual void raw_readv_callback(std::span<const iovec> iov, std::size_t bytes,
                                  client_num_t client_num, bool failed_req = false) {
    (void)iov;
    (void)bytes;
    (void)client_num;
    (void)failed_req;
  }

  /// All bytes of one `raw_write` were written (or failed). Exactly once per raw_write.
  virtual void raw_write_callback(client_num_t client_num, bool failed_req = false) {
    (void)client_num;
    (void)failed_req;
  }

  /// As `raw_write_callback`, for `raw_writev`.
  virtual void raw_writev_callback(client_num_t client_num, bool failed_req = false) {
    (void)client_num;
    (void)failed_req;
  }

  /// The raw descriptor is closed (after `raw_close`, a failure, or shutdown); the handle is dead.
  virtual void raw_close_callback(client_num_t client_num) { (void)client_num; }

  /// An eventfd prepared with `eventfd_prepare` was triggered. One call per trigger; prepare
  /// again to receive the next one (triggers meanwhile are counted, none is lost).
  virtual void event_trigger_callback(client_num_t client_num, std::uint64_t additional_info) {
    (void)client_num;
    (void)additional_info;
  }

  /// A prepared eventfd failed or was closed before it was triggered.
  virtual void event_error_close_callback(client_num_t client_num, std::uint64_t additional_info) {
    (void)client_num;
    (void)additional_info;
  }

  // ---- WebSocket (RFC 6455) ----------------------------------------------------------------

  /// A valid WebSocket upgrade request arrived (RFC 6455 §4.2.1 checked, Origin checked against
  /// `websocket_config::allowed_origins`; malformed ones were already answered 400/426/403 and
  /// never reach this). Return accept = true to switch the connection to WebSocket; the default
  /// refuses every upgrade (404). @p request is valid during the call only. Do not write to the
  /// connection here: `websocket_open_callback` follows an accepted upgrade.
  virtual ws_accept_decision websocket_upgrade_callback(const http_request& request,
                                                        client_num_t client_num) {
    (void)request;
    (void)client_num;
    return {};
  }

  /// The 101 response is queued and the connection speaks WebSocket: `websocket_write` and
  /// friends may be used from here on. Once per accepted upgrade.
  virtual void websocket_open_callback(client_num_t client_num) { (void)client_num; }

  /// One complete message (fragments reassembled, inflated, text validated as UTF-8); @p data is
  /// valid until the callback returns. @p failed_req true: the peer violated the protocol or a
  /// limit (@p data empty); the server has sent the close code (1002, 1007, 1009 …) and closes
  /// the connection — called at most once per connection, and no message follows.
  virtual void websocket_read_callback(std::span<const std::byte> data, ws_message_type type,
                                       client_num_t client_num, bool failed_req = false) {
    (void)data;
    (void)type;
    (void)client_num;
    (void)failed_req;
  }

  /// The frame of one `websocket_write` has been handed to the kernel (or failed: the
  /// connection is closing). Exactly once per websocket_write that returned 0.
  virtual void websocket_write_callback(client_num_t client_num, bool failed_req = false) {
    (void)client_num;
    (void)failed_req;
  }

  /// As `websocket_write_callback`, for `websocket_writev`.
  virtual void websocket_writev_callback(client_num_t client_num, bool failed_req = false) {
    (void)client_num;
    (void)failed_req;
  }

  /// The connection's queued output has fallen to `websocket_config::drain_threshold` or less
  /// after it was above it, a write was refused (-ENOBUFS) or a broadcast skipped it: a good
  /// moment to resume sending to it. Once per such episode.
  virtual void websocket_drain_callback(client_num_t client_num) { (void)client_num; }

  /// The WebSocket connection is closed (TLS and TCP too) and its handle is dead. For a
  /// connection that completed an upgrade this REPLACES `http_close_callback` (exactly one of
  /// the two fires per accepted connection). @p code: the peer's close code (1005 if its close
  /// frame had none), the code we failed the connection with (1002, 1007, 1009 …), or 1006 when
  /// the connection ended without a close frame from the peer (drop, timeout).
  virtual void websocket_close_callback(client_num_t client_num, std::uint16_t code) {
    (void)client_num;
    (void)code;
  }

  /// The connection is about to move to another process (a drain with a `connection_mover`):
  /// what to carry for it — a user id, its topics — at most 4096 bytes (more: it does not
  /// move, and drains here). `connection_moved_in` receives it there. Once it has moved, its
  /// close callback fires here as usual (a WebSocket's with 1001, going away).
  virtual std::string connection_moving(client_num_t client_num) {
    (void)client_num;
    return {};
  }

  /// A connection another process moved in (`network_server::adopt_connection`), before any of
  /// its bytes are read. @p websocket: an open WebSocket (its topics are not carried: subscribe
  /// again from @p blob); else an HTTP/1.1 connection between requests. @p blob: what
  /// `connection_moving` returned there.
  virtual void connection_moved_in(client_num_t client_num, bool websocket, std::string_view blob) {
    (void)client_num;
    (void)websocket;
    (void)blob;
  }

  /// Called when `network_server::start()` is about to run its loop, on the loop thread.
  virtual void server_started_callback(network_server& server) { (void)server; }
};

}  // namespace ns
