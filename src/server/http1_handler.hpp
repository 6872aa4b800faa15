// SPDX-License-Identifier: MIT
#pragma once
// The HTTP/1.1 handler: llhttp (http::request_parser) under one exchange at a time.
//
// Pipelining (RFC 9112 §9.3.2): the parser hands out one request at a time; while the
// application owes its response the handler is `responding` and further bytes wait in its
// input buffer, so a response is never sent before the one ahead of it. A valid WebSocket
// upgrade replaces this handler with a ws_handler (http1_upgrade.cpp).
//
// Files: http1_handler.cpp (input, phases, timers, the end of a response), http1_respond.cpp
// (http_write, http_respond, chunked responses, error answers), http1_body.cpp (streamed request
// bodies), http1_file.cpp (http_send_file), http1_upgrade.cpp.

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "http/request_parser.hpp"
#include "server/exchange.hpp"
#include "server/handler.hpp"

namespace ns::server {

class http1_handler final : public protocol_handler {
 public:
  http1_handler(core& c, transport& t);

  static constexpr handler_kind static_kind = handler_kind::http1;
  [[nodiscard]] handler_kind kind() const noexcept override { return static_kind; }
  void on_ready() override;
  bool on_plaintext(std::span<const std::byte> bytes) override;
  void on_output_pending() override;
  void on_sent() override;
  void on_timer() override;
  void on_resume() override;
  void on_completion(io::op_kind kind, const io_uring_cqe& cqe) override;
  [[nodiscard]] bool quiescent() const noexcept override;
  void release_memory() noexcept override;
  void account(memory_by_kind& m) const noexcept override;
  [[nodiscard]] bool expendable() const noexcept override;
  [[nodiscard]] bool movable() const noexcept override;
  void describe_move(handover::connection_state& out) const override;
  void drain() override;
  void fail_owed() override;
  void report_closed(application_methods& app, client_num_t c) override;

  // ---- the application's calls, after the API guard
  int write(std::span<const iovec> pieces, write_kind kind);
  int respond(int status, std::span<const http_header> headers, std::span<const std::byte> body);
  int send_file(const http_request& req, std::string_view path, bool use_target, file_source from);
  int post_read();
  int begin_chunked(int status, std::span<const http_header> headers);
  int write_chunk(std::span<const std::byte> data);
  int end_chunked();

  /// Answers with the server's own error response for @p status and closes (parser errors,
  /// refused methods, refused bodies).
  void answer_error(int status, std::string_view why);

 private:
  /// Where the connection is between requests; decides which timeout applies.
  enum class phase : std::uint8_t {
    idle,        ///< waiting for the first byte of a request (idle timeout)
    reading,     ///< part of a request received (header timeout)
    responding,  ///< the application owes a response (no timeout of its own)
  };

  void set_phase(phase p);
  /// h2c with prior knowledge (plaintext listeners): true when it took @p bytes (held while
  /// they may still be the HTTP/2 preface, or handed with the connection to HTTP/2).
  bool prior_knowledge(std::span<const std::byte>& bytes, bool& more);
  void progress_timer();
  void parse(std::span<const std::byte> in);
  void parse_buffered();
  bool hold_pipelined(std::span<const std::byte> bytes);
  bool refuse_method();
  void response_done();
  void note_response();
  /// Queues response bytes (their status line, if any, is what the access log reports).
  bool put(std::span<const std::byte> bytes);
  bool put(std::string_view s) { return put(std::as_bytes(std::span(s.data(), s.size()))); }
  /// Ends an application call that queued response bytes: marks its callback, closes the
  /// connection if they could not be queued, else reports the response when it is complete.
  int queued(bool ok, write_kind kind, bool ends_response);
  [[nodiscard]] std::string_view date();

  // Streamed request bodies (http1_body.cpp).
  void on_expect_continue();
  void start_body_stream(std::span<const std::byte> rest);
  void on_body_plaintext(std::span<const std::byte> bytes);
  void feed_body(std::span<const std::byte> in);
  void drain_body_inbuf();
  void resume_body();

  // Static files (http1_file.cpp).
  void file_pump();
  void file_submit_read(std::byte* dst, std::uint64_t len, std::uint64_t off);
  void on_file_read(const io_uring_cqe& cqe);
  void file_finish();
  void flush_stage();
  void emit(std::string_view piece);

  // WebSocket upgrade (http1_upgrade.cpp).
  void upgrade(std::span<const std::byte> rest);
  void refuse_upgrade(int status, std::string_view extra_head = {});

  core& core_;
  transport& t_;
  http::request_parser parser_;
  std::vector<std::byte> inbuf_;  ///< plaintext received but not yet parsed (pipelining)
  phase phase_ = phase::idle;
  bool draining_ = false;         ///< the server hands over: this exchange is the connection's last
  bool answered_ = false;         ///< a response was completed (an idle connection is between two)
  bool preface_pending_ = false;  ///< inbuf_ holds the start of what may be the HTTP/2 preface
  exchange ex_;
};

}  // namespace ns::server
