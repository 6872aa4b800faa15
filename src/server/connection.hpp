// SPDX-License-Identifier: MIT
#pragma once
// Per-connection state: the socket, its TLS session, its HTTP parser, its output queue and the
// bookkeeping of the one close path (in-flight operation count, close reason).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <sys/uio.h>

#include <network_server/types.hpp>

#include "http/request_parser.hpp"
#include "server/output_queue.hpp"
#include "server/ws_state.hpp"
#include "server/server_body.hpp"
#include "server/server_file.hpp"
#include "tls/session.hpp"

namespace ns::server {

/// What a slot holds: an accepted HTTP(S) connection, a descriptor the application handed in
/// (raw API), or an application eventfd.
enum class conn_kind : std::uint8_t { http, raw, event };

/// Where a connection is in its life; drives which timeout applies.
enum class conn_phase : std::uint8_t {
  handshake,      ///< TLS handshake in progress (handshake timeout)
  idle,           ///< waiting for the first byte of a request (idle timeout)
  reading,        ///< part of a request received (header timeout)
  responding,     ///< the application owes a response (no timeout)
  websocket,      ///< upgraded: ping interval / WebSocket idle timeout (server_ws.cpp)
  ws_closing,     ///< our close frame is sent: close timeout
};

struct connection {
  connection(int fd_, const ns::http_limits& limits, conn_kind kind_ = conn_kind::http)
      : fd(fd_), kind(kind_), parser(limits) {}

  int fd;
  conn_kind kind;
  std::optional<tls::session> tls;  ///< absent in plaintext mode
  http::request_parser parser;
  output_queue out;
  std::unique_ptr<ws_state> ws;    ///< set once the connection upgraded to WebSocket
  std::vector<std::byte> inbuf;     ///< plaintext received but not yet parsed (pipelining)

  conn_phase phase = conn_phase::handshake;
  std::uint16_t inflight = 0;       ///< SQEs whose last CQE has not arrived
  bool recv_armed = false;
  bool send_in_flight = false;
  bool keep_alive = true;           ///< of the request being answered
  bool close_after_flush = false;   ///< graceful close: send what is queued, then close
  bool closing = false;             ///< hard close started: cancel, wait for CQEs, close fd
  bool close_listed = false;        ///< queued on the server's finalize list
  bool resume_listed = false;       ///< queued to resume parsing buffered input
  bool eof = false;                 ///< the peer will send nothing more
  bool got_bytes = false;           ///< anything received yet (first bytes are sniffed)
  bool idle_listed = false;         ///< on the list of connections to trim (server_idle.cpp)
  std::uint64_t idle_since_ms = 0;  ///< when it last went idle (loop clock)

  // Responses and bodies beyond one http_write (server_file.cpp, server_body.cpp).
  std::unique_ptr<file_transfer> file;  ///< http_send_file state, allocated on first use
  body_stream body;                     ///< streamed request body (http_post_read)
  chunked_response chunked;             ///< http_begin_chunked … http_end_chunked
  /// A file or chunked response is in progress: http_write must not interleave with it.
  [[nodiscard]] bool long_response() const noexcept {
    return chunked.open || (file && file->active);
  }
  bool error_reported = false;      ///< connection_error_callback already called
  // The response being queued, for http_response_log_callback (server_stats.cpp).
  std::uint16_t resp_status = 0;    ///< from its status line; 0 until seen
  std::uint64_t resp_bytes = 0;     ///< plaintext bytes queued for it so far
  std::string peer;                 ///< "ip:port", formatted on the first logged response

  // Raw descriptors: one read in flight at a time, into the application's buffer(s).
  bool raw_is_socket = false;  ///< sockets are written with send(MSG_NOSIGNAL)
  bool raw_read_in_flight = false;
  bool raw_read_is_vector = false;
  std::span<std::byte> raw_read_buf;
  std::span<const iovec> raw_read_iov;

  // Application eventfds: a prepared read and the value it reports.
  bool event_prepared = false;
  std::uint64_t event_info = 0;
  std::uint64_t event_buf = 0;

  /// A request has been handed to the application and not answered yet.
  [[nodiscard]] bool responding_hold() const noexcept { return phase == conn_phase::responding; }
};

}  // namespace ns::server
