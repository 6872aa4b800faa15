// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// `network_server`: one io_uring event loop serving HTTPS (and WSS) connections.
///
/// Run one `network_server` per thread; several servers may listen on the same port
/// (`server_config::reuse_port`). All methods except `stop()`, `post()`, `eventfd_trigger()` and
/// `publish()` must be called on the loop thread (from inside callbacks); they return 0 on
/// success or a negative errno, e.g. `-EBADF` for a closed or stale `client_num`, and then call
/// no callback.

#include <sys/uio.h>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <ranges>
#include <span>
#include <string_view>
#include <vector>

#include <network_server/application_methods.hpp>
#include <network_server/config.hpp>
#include <network_server/handover.hpp>
#include <network_server/stats.hpp>
#include <network_server/tls.hpp>
#include <network_server/topics.hpp>
#include <network_server/types.hpp>

namespace ns {

/// A range of client handles, e.g. `std::vector<client_num_t>`, `std::set<client_num_t>`, a
/// view: what `network_server::websocket_broadcast` accepts.
template <class R>
concept client_num_range =
    std::ranges::input_range<R> && std::integral<std::ranges::range_value_t<R>>;

/// Outcome of one `network_server::websocket_broadcast`.
struct broadcast_result {
  std::size_t queued = 0;         ///< receivers the message was queued for
  std::size_t slow = 0;           ///< skipped: their queue would exceed max_queued_output
  std::size_t not_websocket = 0;  ///< skipped: stale handle, not WebSocket, or closing
};

/// How `network_server::http_send_file` interprets its path argument.
enum class file_source : std::uint8_t {
  /// A request-target path ("/docs/a.html", percent-encoded) resolved beneath
  /// `static_files_config::document_root`, with every confinement rule of the plain overload.
  document_root,
  /// A file-system path the application trusts, opened as is (no confinement, no directory
  /// index): for files outside the document root that the application chose itself.
  filesystem,
};

/// Counters of the server's static file cache (`network_server::http_file_cache_stats`).
struct file_cache_stats {
  std::uint64_t hits = 0;           ///< lookups answered from the cache
  std::uint64_t misses = 0;         ///< lookups that found nothing valid
  std::uint64_t evictions = 0;      ///< entries dropped to stay within the byte bound
  std::uint64_t invalidations = 0;  ///< entries dropped because the file changed
  std::size_t bytes = 0;            ///< current charge (file bytes + metadata)
  std::size_t entries = 0;          ///< files currently cached
};

/// What the servers (threads) of one process share. A member left empty is made by each server
/// for itself: its own TLS context from `server_config::tls`, its own topic hub (topics then
/// reach only that server's subscribers).
struct shared_resources {
  std::shared_ptr<shared_tls> tls;    ///< certificates and ticket keys (`shared_tls::create`)
  std::shared_ptr<topic_hub> topics;  ///< publish/subscribe across loops (`topic_hub::create`)
};

class network_server {
 public:
  /// Creates the ring, the listening socket and the TLS context. Throws `std::system_error` or
  /// `std::runtime_error` with a one-line message when any of them cannot be set up (busy port,
  /// unreadable key, io_uring disabled, …). @p app must outlive the server.
  network_server(server_config config, application_methods& app);

  /// As above, with TLS state shared with other servers of the process (threads): the same
  /// certificates, reloadable at once for all, and session tickets valid on every thread.
  /// `config.tls` is not read when @p tls is given.
  network_server(server_config config, application_methods& app, std::shared_ptr<shared_tls> tls);

  /// As above with everything the threads of the process share (see `shared_resources`).
  network_server(server_config config, application_methods& app, shared_resources shared);
  ~network_server();
  network_server(const network_server&) = delete;
  network_server& operator=(const network_server&) = delete;

  /// Runs the event loop on the calling thread until `stop()`; returns 0, or -errno if the loop
  /// failed. On return every connection has been closed through the close path.
  int start();

  /// Asks the loop to shut down gracefully: stop accepting, let queued writes finish (up to
  /// `server_config::shutdown_deadline`), close everything, return from `start()`.
  /// Safe to call from any thread and from a signal handler.
  void stop() noexcept;

  /// Hands over: asks the loop to stop accepting (another process accepting on the same
  /// listening socket takes the new connections; the server closes its own descriptor of it),
  /// to answer the request in progress on each HTTP connection with `Connection: close` and
  /// then close it (an idle keep-alive connection closes now), to let responses and file
  /// downloads finish, and to close WebSockets with 1001 after @p websocket_grace; `start()`
  /// returns once every connection has closed. Safe to call from any thread. `stop()` after
  /// it still cuts the drain short.
  void drain(std::chrono::milliseconds websocket_grace) noexcept;
  /// `drain`, moving what can move to another process through @p mover instead of closing it
  /// (handover.hpp): idle keep-alive connections and WebSockets between messages go as soon as
  /// they are at a clean point; what cannot move (TLS 1.2, a response being written, deflate
  /// with context takeover, a refused move) drains as above. @p mover must outlive `start()`.
  void drain(std::chrono::milliseconds websocket_grace, std::shared_ptr<connection_mover> mover);

  /// Continues a connection another process moved out (`connection_mover::move` there): takes
  /// @p fd and its @p state, and hands the connection to this server's loop, where
  /// `application_methods::connection_moved_in` hears of it before any of its bytes are read.
  /// Any thread. Returns 0 (the server owns @p fd now, even if it must close it later, e.g.
  /// over max_connections), -EINVAL if @p state is not a state this version reads (the
  /// reason is logged; @p fd stays the caller's), -EPROTO in plaintext mode, -ESHUTDOWN once
  /// stopping.
  int adopt_connection(int fd, std::span<const std::byte> state);

  /// Whether the server still accepts: true from its construction (its listener queues
  /// connections for it) until a drain or stop has ended its accepting for good (its loop's
  /// last accept on the listener has completed, or `start()` failed). The process taking
  /// over waits for this to turn false in every old server before `recheck_accept()`. Any
  /// thread.
  [[nodiscard]] bool accepting() const noexcept;

  /// Looks at the listening socket's queue again. io_uring's accept waits exclusively: the
  /// kernel wakes one waiter per new connection, and a waiter whose accept is being cancelled
  /// (another process draining on the same socket) may take the wake-up with it, leaving the
  /// connection queued and unnoticed until the next one arrives. The loop replaces its pending
  /// accept, and the new one takes what is queued. Call it after every other process accepting
  /// on the socket stopped (`accepting()` false there). Any thread.
  void recheck_accept() noexcept;

  /// The listening socket (e.g. to pass to another process with SCM_RIGHTS, which then
  /// constructs its servers with `server_config::listen_fd`), or -1 once draining. Owned by
  /// the server. Not synchronised with the loop: read it before `start()` (or on its thread).
  [[nodiscard]] int listener_fd() const noexcept;

  /// The port the listener is bound to (the actual one when 0 was configured).
  [[nodiscard]] std::uint16_t port() const noexcept;

  /// Queues one complete HTTP response (status line, headers, body) for @p client_num.
  /// The bytes are encrypted and copied at once: the caller's buffer is free when this returns.
  /// `http_write_callback` follows once they are sent (or failed). -EINVAL on a connection
  /// upgraded to WebSocket.
  int http_write(client_num_t client_num, std::span<const std::byte> data);
  int http_write(client_num_t client_num, std::string_view data) {
    return http_write(client_num, std::as_bytes(std::span(data.data(), data.size())));
  }

  /// As `http_write` for a response in several pieces (e.g. header block + body).
  int http_writev(client_num_t client_num, std::span<const iovec> pieces);

  /// Queues one complete response built from its parts: the server writes the status line,
  /// `Date`, `Server`, @p headers, `Content-Length` (except for 204 and 304) and `Connection`
  /// (keep-alive or close, as the request and the server decide), then @p body — omitted for
  /// HEAD requests and for 204 and 304. The status reaches `http_response_log_callback`
  /// without being parsed back from bytes. `http_write_callback` follows.
  /// Returns 0, -EBADF (stale handle, or not an HTTP connection), -EINVAL (a status outside
  /// 200-999, an empty header name, CR or LF in a header, a framing header —
  /// Content-Length, Transfer-Encoding, Connection — or a WebSocket connection), -EPIPE
  /// (closing), -EAGAIN (TLS handshake not finished), -EBUSY (a file or chunked response in
  /// progress), -ENOBUFS (over `max_queued_output`).
  int http_respond(client_num_t client_num, int status, std::span<const http_header> headers,
                   std::span<const std::byte> body);
  int http_respond(client_num_t client_num, int status, std::span<const http_header> headers,
                   std::string_view body) {
    return http_respond(client_num, status, headers,
                        std::as_bytes(std::span(body.data(), body.size())));
  }

  /// Closes the connection after its queued output has been sent.
  int http_close(client_num_t client_num);

  // ---- static files, streamed bodies, chunked responses -----------------------------------

  /// Answers @p request with the file its target names beneath
  /// `static_files_config::document_root`: percent-decoded once, normalised, confined (`..`,
  /// encoded '/', NUL, symlinks leaving the root → 400/403/404), a directory serves its
  /// index.html (without trailing '/' → 301), GET and HEAD only (others → 405), validators
  /// (strong ETag, Last-Modified; If-None-Match / If-Modified-Since → 304, If-Match /
  /// If-Unmodified-Since → 412), Range (single, open, suffix, several → multipart/byteranges,
  /// unsatisfiable → 416, If-Range), Content-Type by extension, the configured 404 page.
  /// Small files come from the LRU cache; large ones are read with io_uring in
  /// `read_chunk_bytes` pieces, each read only when the queued output is below
  /// `send_low_water` (bounded memory per transfer, a slow client is not buffered for).
  ///
  /// The response counts as the answer to the request in hand: requests pipelined behind it
  /// are parsed only after its last byte has been queued. @p request is read during this call
  /// only. Returns 0 when the client will be answered — then `http_writev_callback` follows
  /// exactly once (failed_req true if the connection failed first) — or -errno and no callback:
  /// -EBADF stale handle, -EPIPE closing, -EBUSY another file or chunked response in
  /// progress, -EINVAL no document root configured (or the connection was upgraded to
  /// WebSocket), -EAGAIN TLS handshake not finished.
  int http_send_file(client_num_t client_num, const http_request& request);

  /// As above for @p path instead of the request target (e.g. a rewritten URL "/app.html"
  /// for a single-page application, or a trusted file-system path with
  /// `file_source::filesystem`). @p path is read during this call only.
  int http_send_file(client_num_t client_num, const http_request& request, std::string_view path,
                     file_source from = file_source::document_root);

  /// Asks for the next piece of a streamed request body (see
  /// `application_methods::http_stream_callback`); `http_body_callback` follows once, with the
  /// piece. The first call also sends `100 Continue` when the client asked for it
  /// (RFC 9110 §10.1.1). Until the next call the server reads nothing more from the client
  /// (back-pressure: it stops decrypting and receiving). Returns 0, -EBADF, -EPIPE (closing),
  /// -EINVAL (no streamed body in progress, or it is complete), -EBUSY (a read is pending).
  int http_post_read(client_num_t client_num);

  /// Starts a response of unknown length: status line, Date, Server, @p headers (e.g.
  /// Content-Type), `Transfer-Encoding: chunked` (RFC 9112 §7.1) and Connection. To an
  /// HTTP/1.0 client the body is sent unframed and the connection closes after it; for HEAD no
  /// body is sent. Follow with `http_write_chunk` calls and one `http_end_chunked`, which
  /// completes the response. Each of the three, when it returns 0, is followed by exactly one
  /// `http_write_callback`. Returns -EBUSY if a file or chunked response is in progress,
  /// -EINVAL for a status outside 200-999, a header containing CR/LF, or a WebSocket connection.
  int http_begin_chunked(client_num_t client_num, int status,
                         std::span<const http_header> headers = {});

  /// Sends @p data as one chunk (an empty @p data sends nothing but still calls back).
  /// -EINVAL without http_begin_chunked; -ENOBUFS over `max_queued_output` (wait for callbacks).
  int http_write_chunk(client_num_t client_num, std::span<const std::byte> data);
  int http_write_chunk(client_num_t client_num, std::string_view data) {
    return http_write_chunk(client_num, std::as_bytes(std::span(data.data(), data.size())));
  }

  /// Ends the chunked response (last-chunk); the next pipelined request may then be answered.
  int http_end_chunked(client_num_t client_num);

  /// The file cache counters. Loop thread only (a callback, or a function given to `post`).
  [[nodiscard]] file_cache_stats http_file_cache_stats() const noexcept;

  /// The server's counters (connections, requests, bytes, WebSocket messages, TLS handshakes,
  /// cache hits, errors by kind; see stats.hpp). Loop thread only (a callback, or a function
  /// given to `post` — how another thread collects them).
  [[nodiscard]] server_stats stats() const noexcept;

  /// The @p n open connections holding the most memory, largest first, with their bytes by
  /// kind, peer and protocol (the status page's view of `server_stats::memory`). Counted when
  /// called: O(open connections). Loop thread only, like `stats`.
  [[nodiscard]] std::vector<connection_memory> largest_connections(std::size_t n) const;

  // ---- WebSocket (RFC 6455, RFC 7692) -------------------------------------------------------

  /// Sends @p data as one WebSocket message (one frame; compressed when permessage-deflate was
  /// agreed and it reaches `websocket_config::deflate_threshold`). Encrypted and copied at once:
  /// the buffer is free on return. `websocket_write_callback` follows. Returns 0, -EBADF (stale
  /// handle), -EINVAL (not a WebSocket connection), -EPIPE (closing: a close frame was sent or
  /// received), -ENOBUFS (the queued output is not empty and would exceed
  /// `server_config::max_queued_output`; `websocket_drain_callback` follows when it drains).
  /// A single message larger than that bound is accepted when nothing is queued.
  int websocket_write(client_num_t client_num, std::span<const std::byte> data,
                      ws_message_type type = ws_message_type::binary);
  /// Sends @p text as a text message (must be UTF-8).
  int websocket_write(client_num_t client_num, std::string_view text) {
    return websocket_write(client_num, std::as_bytes(std::span(text.data(), text.size())),
                           ws_message_type::text);
  }

  /// As `websocket_write` for a message given in pieces (concatenated into one message);
  /// `websocket_writev_callback` follows.
  int websocket_writev(client_num_t client_num, std::span<const iovec> pieces,
                       ws_message_type type = ws_message_type::binary);

  /// Starts the closing handshake (RFC 6455 §7.1.2): sends a close frame with @p code and
  /// @p reason (UTF-8, at most 123 bytes). No message can be sent afterwards; the connection
  /// closes when the peer's close arrives or after `websocket_config::close_timeout`, then
  /// `websocket_close_callback` fires. Returns 0, -EBADF, -EINVAL (not WebSocket, a code not
  /// allowed on the wire — only 1000-1003, 1007-1014 and 3000-4999 are — or reason too long),
  /// -EPIPE (already closing).
  int websocket_close(client_num_t client_num, std::uint16_t code = 1000,
                      std::string_view reason = {});

  /// Sends one message to every WebSocket connection in @p client_nums. The frame is encoded
  /// (and, with `ws_deflate_mode::shared`, compressed) once; each receiver's TLS session
  /// encrypts from that one buffer, with no per-receiver copy of the frame. Receivers whose
  /// connection cannot take the shared compressed frame (dedicated mode, no deflate, smaller
  /// window) get the same uncompressed frame. A receiver whose queued output is not empty and
  /// would exceed `max_queued_output` is skipped (`slow`; with
  /// `websocket_config::close_slow_receivers` it is also closed with 1008) and gets a
  /// `websocket_drain_callback` later: a slow receiver never delays the others. No write
  /// callback fires for broadcasts. Duplicated handles receive the message twice.
  template <client_num_range R>
  broadcast_result websocket_broadcast(R&& client_nums, std::span<const std::byte> data,
                                       ws_message_type type = ws_message_type::binary) {
    broadcast_result result;
    broadcast_begin(data, type);
    for (auto&& c : client_nums) broadcast_to(static_cast<client_num_t>(c), result);
    broadcast_end();
    return result;
  }
  /// As above with a text message.
  template <client_num_range R>
  broadcast_result websocket_broadcast(R&& client_nums, std::string_view text) {
    return websocket_broadcast(std::forward<R>(client_nums),
                               std::as_bytes(std::span(text.data(), text.size())),
                               ws_message_type::text);
  }

  // ---- topics (publish/subscribe, topics.hpp) ----------------------------------------------

  /// Subscribes the WebSocket connection @p client_num to @p topic (opaque bytes, at most
  /// `max_topic_bytes`): every `publish` on it, from any loop or thread of the process (and,
  /// with an engine, from other instances), reaches the connection until `unsubscribe` or its
  /// close (a closed connection leaves all its topics by itself). Returns 0, -EBADF (stale
  /// handle, or a raw descriptor / eventfd), -EINVAL (not a WebSocket connection — from
  /// `websocket_open_callback` on it is one — or a topic too long), -EPIPE (closing),
  /// -EEXIST (already subscribed: nothing changes).
  int subscribe(client_num_t client_num, std::string_view topic);

  /// Ends a subscription. Returns 0, -EBADF, -EINVAL (as `subscribe`), -ENOENT (not subscribed).
  int unsubscribe(client_num_t client_num, std::string_view topic);

  /// Sends @p data as one message to every subscriber of @p topic on every loop sharing this
  /// server's hub, and to the hub's engine (`topic_hub::publish`, which this is). Each loop
  /// encodes the frame (and compresses it, in shared deflate mode) once for all its
  /// subscribers; slow receivers are handled as by `websocket_broadcast` (skipped and counted
  /// in `server_stats::topics.dropped_slow`, or closed with 1008). On the loop thread this
  /// loop's subscribers get the message at once; other loops get it through `post`. Messages
  /// of one thread on one topic reach every subscriber in the order published. Safe from any
  /// thread. Returns 0, or -EINVAL for a topic longer than `max_topic_bytes`.
  int publish(std::string_view topic, std::span<const std::byte> data,
              ws_message_type type = ws_message_type::binary);
  /// As above with a text message (must be UTF-8).
  int publish(std::string_view topic, std::string_view text) {
    return publish(topic, std::as_bytes(std::span(text.data(), text.size())),
                   ws_message_type::text);
  }

  /// The topic hub this server uses (given in `shared_resources`, or its own).
  [[nodiscard]] topic_hub& topics() noexcept;

  /// Bytes queued for @p client_num and not yet handed to the kernel (ciphertext on TLS
  /// connections), or -EBADF. Any connection kind. Use it with `websocket_drain_callback` to
  /// stop sending to a slow consumer.
  [[nodiscard]] std::int64_t queued_bytes(client_num_t client_num) const noexcept;

  /// The client of @p client_num as "ip:port" or "[ipv6]:port" (behind a PROXY listener: the
  /// client the header names), the text `http_response_info::peer` shows; empty for a stale
  /// handle. Loop thread only; valid until the connection closes.
  [[nodiscard]] std::string_view client_address(client_num_t client_num);

  // ---- raw descriptors ------------------------------------------------------------------

  /// Hands an open descriptor (pipe, file, socket the application connected) to the server,
  /// which owns it from now on and closes it on `raw_close` or shutdown. Returns its handle
  /// in @p client_num; 0 or -errno (-EMFILE when every slot is taken).
  int raw_adopt(int fd, client_num_t& client_num);

  /// Reads once into @p buffer (which must stay valid until `raw_read_callback`). One read
  /// per descriptor at a time (-EBUSY otherwise). Files are read at their current position.
  int raw_read(client_num_t client_num, std::span<std::byte> buffer);

  /// As `raw_read` into several buffers; @p iov and its buffers stay valid until the callback.
  int raw_readv(client_num_t client_num, std::span<const iovec> iov);

  /// Writes all of @p data (copied at once); `raw_write_callback` follows.
  int raw_write(client_num_t client_num, std::span<const std::byte> data);

  /// Writes all pieces (copied at once), in order; `raw_writev_callback` follows.
  int raw_writev(client_num_t client_num, std::span<const iovec> pieces);

  /// Closes the descriptor after queued writes; pending reads fail. `raw_close_callback` follows.
  int raw_close(client_num_t client_num);

  // ---- custom events and cross-thread work -------------------------------------------------

  /// Opens an eventfd owned by this server; returns its handle, or `invalid_client` with errno
  /// set when no slot or descriptor is available.
  client_num_t eventfd_open();

  /// Arms the eventfd: the next trigger calls `event_trigger_callback(client_num, info)`.
  int eventfd_prepare(client_num_t client_num, std::uint64_t additional_info);

  /// Triggers the eventfd. Safe from any thread. Returns 0 or -EBADF for an unknown handle.
  int eventfd_trigger(client_num_t client_num);

  /// Closes the eventfd; a prepared one reports `event_error_close_callback`.
  int eventfd_close(client_num_t client_num);

  /// Runs @p fn on the loop thread, soon, in the order posted. Safe from any thread: the way
  /// for another thread to e.g. `http_write` to a client. Returns -ESHUTDOWN once stopping.
  int post(std::function<void()> fn);

  class impl;

 private:
  std::unique_ptr<impl> impl_;

  // websocket_broadcast's steps (the template above cannot see impl).
  void broadcast_begin(std::span<const std::byte> data, ws_message_type type);
  void broadcast_to(client_num_t client_num, broadcast_result& result);
  void broadcast_end() noexcept;
};

}  // namespace ns
