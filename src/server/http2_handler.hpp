// SPDX-License-Identifier: MIT
#pragma once
// The HTTP/2 handler: one http2::session (nghttp2, sans-IO) per connection, one h2_stream per
// request, each with its own exchange. A connection whose TLS handshake chose ALPN "h2" gets
// it from the HTTP/1.1 handler's on_ready() before any application byte is read.
//
// Each stream's request reaches http_read_callback with a stream handle (stream_handle.hpp);
// http_write (raw HTTP/1 bytes, translated), http_respond, the chunked calls and
// http_send_file answer it. Response bodies wait in the stream (bounded by max_queued_output
// over the connection) and leave through nghttp2's data provider, so only as fast as the
// stream's and the connection's windows open; a file is read (io_uring, one read in flight per
// connection) only when its stream's provider has nothing left.
//
// Files: http2_handler.cpp (input, streams, output pump, timers, lifecycle), http2_respond.cpp
// (the application's calls), http2_file.cpp (http_send_file on a stream).

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http2/session.hpp"
#include "server/exchange.hpp"
#include "server/handler.hpp"

namespace ns::server {

/// One request and its response on an HTTP/2 connection.
struct h2_stream {
  std::int32_t id = 0;
  std::uint32_t tag = 0;      ///< the stream handle's tag
  http_request req;           ///< views into storage
  std::string storage;        ///< method, target, field names and values, back to back
  std::string body;           ///< the request body (whole: streamed bodies are not yet offered)
  bool body_refused = false;  ///< over max_body_bytes: answered 413, the rest is dropped
  bool delivered = false;     ///< http_read_callback ran: the close callback is owed
  bool responded = false;     ///< HEADERS submitted
  bool ended = false;         ///< the whole body has been given (or there is none)
  bool closed = false;        ///< nghttp2 closed the stream
  write_kind kind = write_kind::http_write;
  std::string out;  ///< response body bytes not yet taken by nghttp2
  std::size_t out_off = 0;
  exchange ex;      ///< status, bytes, start time, file transfer, scratch
  read_buffer buf;  ///< file bytes read, not yet taken
  std::size_t buf_len = 0;
  std::size_t buf_off = 0;
  bool read_wanted = false;  ///< waits for the connection's one file read

  [[nodiscard]] client_num_t handle(client_num_t conn) const noexcept;
};

class http2_handler final : public protocol_handler, private http2::events {
 public:
  http2_handler(core& c, transport& t);
  ~http2_handler() override;

  static constexpr handler_kind static_kind = handler_kind::http2;
  [[nodiscard]] handler_kind kind() const noexcept override { return static_kind; }
  void on_ready() override;
  bool on_plaintext(std::span<const std::byte> bytes) override;
  void on_output_pending() override;
  void on_sent() override;
  void on_timer() override;
  void on_completion(io::op_kind kind, const io_uring_cqe& cqe) override;
  void going_away() override;
  void drain() override;
  [[nodiscard]] bool quiescent() const noexcept override;
  void release_memory() noexcept override;
  void account(memory_by_kind& m) const noexcept override;
  [[nodiscard]] bool expendable() const noexcept override;
  void fail_owed() override;
  void report_closed(application_methods& app, client_num_t c) override;

  // ---- the application's calls on a stream handle, after the API guard (http2_respond.cpp)
  int write(std::uint32_t tag, std::span<const iovec> pieces, write_kind kind);
  int respond(std::uint32_t tag, int status, std::span<const http_header> headers,
              std::span<const std::byte> body);
  int send_file(std::uint32_t tag, const http_request& req, std::string_view path, bool use_target,
                file_source from);
  int post_read(std::uint32_t tag);
  int begin_chunked(std::uint32_t tag, int status, std::span<const http_header> headers);
  int write_chunk(std::uint32_t tag, std::span<const std::byte> data);
  int end_chunked(std::uint32_t tag);
  int close_stream(std::uint32_t tag);
  /// Response bytes of @p tag's stream not yet taken by the session (queued_bytes).
  [[nodiscard]] std::int64_t queued(std::uint32_t tag) const noexcept;

 private:
  // http2::events
  void on_request(std::int32_t stream, const http2::request_head& head) override;
  void on_body(std::int32_t stream, std::span<const std::byte> piece) override;
  void on_body_end(std::int32_t stream) override;
  http2::body_chunk read_body(std::int32_t stream, std::span<std::byte> out) override;
  void on_stream_closed(std::int32_t stream, http2::error_code code) override;

  [[nodiscard]] h2_stream* by_id(std::int32_t id) noexcept;
  [[nodiscard]] h2_stream* by_tag(std::uint32_t tag) noexcept;
  [[nodiscard]] const h2_stream* by_tag(std::uint32_t tag) const noexcept;
  std::uint32_t next_tag();
  void deliver(h2_stream& s);
  /// Submits HEADERS (+ the body in s.out, then whatever follows until ended).
  int start_response(h2_stream& s, int status, std::span<const http2::field> fields, bool has_body);
  void note_response(h2_stream& s);
  void finish(std::unique_ptr<h2_stream> s, bool failed);
  /// Moves the session's frames into the transport while its queue is below the low-water mark.
  void pump();
  void progress_timer();
  [[nodiscard]] bool waiting_on_peer() const noexcept;
  [[nodiscard]] bool head_request(const h2_stream& s) const noexcept;
  [[nodiscard]] std::string_view date();

  // Files (http2_file.cpp).
  http2::body_chunk read_file(h2_stream& s, std::span<std::byte> out);
  void want_read(h2_stream& s);
  void start_next_read();
  void on_file_read(const io_uring_cqe& cqe);

  core& core_;
  transport& t_;
  http2::session session_;
  std::vector<std::unique_ptr<h2_stream>> streams_;  ///< open (few: ≤ max concurrent streams)
  std::unique_ptr<h2_stream> reading_;  ///< a closed stream whose file read is in flight
  std::int32_t read_stream_ = 0;        ///< the stream whose file read is in flight, 0: none
  std::uint32_t last_tag_ = 0;
  std::size_t pending_bytes_ = 0;  ///< response bytes held in streams (bounded)
  std::size_t body_held_ = 0;      ///< request body bytes held in streams (≤ max_body_bytes)
  bool draining_ = false;
  bool failed_ = false;  ///< the session failed: send what it queued, then close
  bool in_session_ = false;
  bool idle_armed_ = false;     ///< the idle deadline runs (no stream open)
  std::uint64_t body_out_ = 0;  ///< response body bytes given to the session, ever
  std::uint64_t body_out_seen_ =
      0;  ///< body_out_ when the deadline was last restarted  ///< inside feed() or take_output():
          ///< the session is not re-entered
};

}  // namespace ns::server
