// SPDX-License-Identifier: MIT
#pragma once
// The protocol handler a transport carries: the one interface between the loop and what a
// connection speaks. The loop feeds it plaintext, tells it when the peer took bytes, when its
// timer fired, when the server drains, and asks whether it is at a safe point (quiescent) and
// what it holds (account). It never asks which protocol it drives; the public API's guard
// (api_guard.hpp) is the one place that does, to refuse a call of the wrong kind.
//
// A handler is owned by its transport and lives exactly as long as the slot (or until an
// upgrade replaces it). Its methods run on the loop thread; any of them may call back into the
// application, which may close the connection: after a call, the core checks the transport's
// flags rather than assuming the handler still wants anything.

#include <liburing.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include <network_server/application_methods.hpp>
#include <network_server/server.hpp>
#include <network_server/stats.hpp>

#include "handover/connection_state.hpp"
#include "io/op.hpp"
#include "server/transport.hpp"

namespace ns::server {

/// The loop a handler runs on (core.hpp).
using core = network_server::impl;

/// What a handler speaks. Only the API guard reads it (and reports name it).
enum class handler_kind : std::uint8_t { http1, websocket, raw, event, http2 };

/// A short name of @p k for reports (status JSON): "http", "ws", "raw", "event", "h2".
[[nodiscard]] constexpr const char* kind_name(handler_kind k) noexcept {
  switch (k) {
    case handler_kind::http1:
      return "http";
    case handler_kind::websocket:
      return "ws";
    case handler_kind::raw:
      return "raw";
    case handler_kind::event:
      return "event";
    case handler_kind::http2:
      return "h2";
  }
  return "?";
}

class protocol_handler {
 public:
  virtual ~protocol_handler() = default;
  protocol_handler() = default;
  protocol_handler(const protocol_handler&) = delete;
  protocol_handler& operator=(const protocol_handler&) = delete;

  [[nodiscard]] virtual handler_kind kind() const noexcept = 0;

  /// The transport carries application bytes from now on (TLS handshake done, or a plaintext
  /// connection accepted).
  virtual void on_ready() {}
  /// Decrypted (or plaintext) bytes. Returns false to stop the transport from decrypting more
  /// for now (back-pressure: the rest stays in the TLS session until on_resume()).
  virtual bool on_plaintext(std::span<const std::byte> bytes) = 0;
  /// A send was submitted: the peer now owes progress (slow-reader deadlines start here).
  virtual void on_output_pending() {}
  /// The peer took bytes (write callbacks already fired). The transport is still open.
  virtual void on_sent() {}
  /// The handler's deadline (its transport's timer) is due.
  virtual void on_timer() = 0;
  /// Deferred work the handler asked for with core::resume_later(), run between completions.
  virtual void on_resume() {}
  /// A completion of an operation the handler submitted itself (file, raw or eventfd read).
  virtual void on_completion(io::op_kind kind, const io_uring_cqe& cqe) = 0;
  /// The server drains (shutdown or hand-over): finish what is in flight, start nothing new.
  virtual void going_away() {}
  /// The server hands its listeners over to another process and drains: finish the exchange
  /// in progress, take no new one (HTTP/1.1: `Connection: close`). A long-lived protocol
  /// (WebSocket) keeps going until going_away(), after the drain's grace period.
  virtual void drain() {}
  /// Nothing half-done that uses the connection's buffers: a safe point to free them (and,
  /// later, to move the connection).
  [[nodiscard]] virtual bool quiescent() const noexcept = 0;
  /// At a point where the connection could continue in another process (a drain with a
  /// connection mover, move_out.cpp): nothing partly received, nothing owed, no state that the
  /// connection's handover record does not carry.
  [[nodiscard]] virtual bool movable() const noexcept { return false; }
  /// Fills the protocol's part of @p out (called only when movable()).
  virtual void describe_move(handover::connection_state& out) const { (void)out; }
  /// The connection has moved to another process: what the application hears of its close
  /// here should say so (a WebSocket reports 1001, going away).
  virtual void on_moved() noexcept {}
  /// Frees buffers kept for reuse; called only when quiescent.
  virtual void release_memory() noexcept {}
  /// Adds the memory the handler holds beyond its own size (buffers, protocol state) to @p m,
  /// by kind (memory accounting: server_stats::memory, --max-memory).
  virtual void account(memory_by_kind& m) const noexcept = 0;
  /// Between requests: closing the connection loses nothing its peer waits for (an idle HTTP
  /// keep-alive connection). Over the memory cap these go first (memory_cap.cpp).
  [[nodiscard]] virtual bool expendable() const noexcept { return false; }
  /// The connection is about to be closed to relieve memory (the cap): what the application
  /// hears should say so (a WebSocket reports 1013, Try Again Later).
  virtual void on_shed() noexcept {}
  /// The transport is being finalized (fd closed, queued writes failed, handle still valid):
  /// fail what is still owed to the application.
  virtual void fail_owed() {}
  /// The slot is freed and the handle dead: the application's close callback.
  virtual void report_closed(application_methods& app, client_num_t c) = 0;
};

}  // namespace ns::server
