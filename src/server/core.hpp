// SPDX-License-Identifier: MIT
#pragma once
// network_server::impl — the loop of one thread: the ring, the slots of transports, the timer
// wheel, and the services protocol handlers use (queue and send bytes, close, timers, deferred
// work, counters). It does not know what a connection speaks: HTTP/1.1, WebSocket, raw
// descriptors and eventfds are handlers (handler.hpp) that it drives through one interface.
//
// Every completion is tagged (io/op.hpp) with its slot and generation, so a completion for a
// connection that has closed is recognised and dropped. Transports are never freed inside a
// callback: a close only marks them; the one close path (finalize_closed) runs after each
// completion has been fully handled, once every in-flight operation has completed.
//
// Files: loop.cpp (run, dispatch, accept, tick, stop), transport_io.cpp (recv, TLS, send),
// proxy_preamble.cpp (the PROXY header before TLS), close_path.cpp, idle_memory.cpp, stats.cpp,
// move_out.cpp and move_in.cpp (live connections moving between processes on an upgrade),
// api.cpp (the public entry points and their guard); handlers: http1_*.cpp, ws_*.cpp,
// descriptor_handlers.cpp.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <network_server/log.hpp>
#include <network_server/server.hpp>

#include "io/buffer_ring.hpp"
#include "io/op.hpp"
#include "io/ring.hpp"
#include "io/slot_map.hpp"
#include "io/timer_wheel.hpp"
#include "server/conn_error.hpp"
#include "server/debug_registry.hpp"
#include "server/handler.hpp"
#include "server/memory_cap.hpp"
#include "server/memory_trim.hpp"
#include "server/proxy_preamble.hpp"
#include "server/server_file.hpp"
#include "server/shared_tls_impl.hpp"
#include "server/timer_ids.hpp"
#include "server/topics.hpp"
#include "server/transport.hpp"
#include "server/ws_shared.hpp"

namespace ns {

class network_server::impl {
 public:
  using transport = server::transport;

  impl(network_server& self, server_config config, application_methods& app,
       shared_resources shared);
  ~impl();
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;

  int run();
  void request_stop() noexcept;
  /// Thread-safe: stop accepting and drain (network_server::drain).
  void request_drain(std::chrono::milliseconds websocket_grace,
                     std::shared_ptr<connection_mover> mover = nullptr) noexcept;
  void request_recheck_accept() noexcept;
  [[nodiscard]] bool accepting() const noexcept {
    return accepting_.load(std::memory_order_acquire);
  }
  [[nodiscard]] int listener_fd() const noexcept { return listen_fd_; }
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

  // ---- the public API's entry points (api.cpp, http1_api.cpp, ws_api.cpp,
  //      descriptor_handlers.cpp); each starts with the one guard (api_guard.hpp)
  int http_write(client_num_t c, std::span<const iovec> pieces, server::write_kind kind);
  int http_respond(client_num_t c, int status, std::span<const http_header> headers,
                   std::span<const std::byte> body);
  int http_close(client_num_t c);
  int http_send_file(client_num_t c, const http_request& req, std::string_view path,
                     bool use_target, file_source from);
  int http_post_read(client_num_t c);
  int http_begin_chunked(client_num_t c, int status, std::span<const http_header> headers);
  int http_write_chunk(client_num_t c, std::span<const std::byte> data);
  int http_end_chunked(client_num_t c);
  int ws_write(client_num_t c, std::span<const iovec> pieces, ws_message_type type,
               server::write_kind kind);
  int ws_close(client_num_t c, std::uint16_t code, std::string_view reason);
  void ws_broadcast_begin(std::span<const std::byte> data, ws_message_type type);
  void ws_broadcast_to(client_num_t c, broadcast_result& result);
  void ws_broadcast_end() noexcept;
  int subscribe(client_num_t c, std::string_view topic);
  int unsubscribe(client_num_t c, std::string_view topic);
  [[nodiscard]] std::int64_t queued_bytes(client_num_t c) noexcept;
  [[nodiscard]] std::string_view client_address(client_num_t c);
  int raw_adopt(int fd, client_num_t& out);
  int raw_read(client_num_t c, std::span<std::byte> buf, std::span<const iovec> iov, bool vector);
  int raw_write(client_num_t c, std::span<const iovec> pieces, server::write_kind kind);
  int raw_close(client_num_t c);
  client_num_t eventfd_open();
  int eventfd_prepare(client_num_t c, std::uint64_t info);
  int eventfd_trigger(client_num_t c);
  int eventfd_close(client_num_t c);
  int post(std::function<void()> fn);
  int adopt_connection(int fd, std::span<const std::byte> state);
  [[nodiscard]] server_stats stats() const noexcept;
  [[nodiscard]] file_cache_stats cache_stats() const noexcept;

  // ---- services for protocol handlers ------------------------------------------------------
  [[nodiscard]] application_methods& app() noexcept { return app_; }
  [[nodiscard]] const server_config& config() const noexcept { return config_; }
  [[nodiscard]] server_stats& counters() noexcept { return stats_; }
  [[nodiscard]] std::uint64_t now_ms() const noexcept { return now_ms_; }
  [[nodiscard]] server::file_service& files() noexcept { return *files_; }
  [[nodiscard]] server::ws_shared& ws_resources();
  [[nodiscard]] server::topic_service& topics() noexcept { return topics_; }

  /// Sends what is queued (one send in flight at a time); closes a transport whose graceful
  /// close has drained.
  void flush(transport& t);
  /// Queues @p bytes and sends them; on a TLS failure closes the transport. False if refused.
  bool send(transport& t, std::span<const std::byte> bytes);
  /// Sends what is queued, then close_notify, then closes (the one graceful close).
  void close_graceful(transport& t);
  /// Cancels what is in flight and closes once every completion has arrived.
  void close_hard(transport& t);
  /// An SQE tagged for @p t's @p kind of operation (counted in t.inflight by the caller), or
  /// nullptr when the submission queue is full.
  [[nodiscard]] io_uring_sqe* sqe_for(const transport& t, io::op_kind kind);
  /// Runs the handler's on_resume() between completions, soon.
  void resume_later(transport& t);
  /// Stops / restarts the multishot recv (a handler holding input it cannot take yet).
  void pause_recv(transport& t);
  void unpause_recv(transport& t);
  /// Feeds plaintext held back inside the TLS session to the handler again.
  void redeliver(transport& t);
  /// The transport's deadline; 0 cancels it.
  void schedule(transport& t, std::uint64_t deadline_ms);
  [[nodiscard]] bool timer_armed(const transport& t) const;
  /// The connection ends in @p e: counted, logged (one line) and reported to the application
  /// once. @p detail completes the line (an OpenSSL reason, an errno text).
  void report_error(transport& t, server::conn_error e, std::string_view detail = {},
                    log_level level = log_level::info);
  /// Went idle: its buffers are freed if it stays idle (idle_memory.cpp).
  void note_idle(transport& t);
  /// Replaces the transport's handler (an upgrade). The old one stays alive until the
  /// current completion has been handled, so the caller may still return through it.
  void swap_handler(transport& t, std::unique_ptr<server::protocol_handler> h);
  /// "ip:port" of the peer, looked up once.
  [[nodiscard]] std::string_view peer_of(transport& t);
  [[nodiscard]] bool stopping() const noexcept { return stopping_; }
  /// The transport of a live handle, or nullptr (stale, invalid).
  [[nodiscard]] transport* find(client_num_t c) noexcept { return conns_.find(c); }
  /// An eventfd's handle is no longer published to eventfd_trigger (before its fd closes).
  void unpublish_eventfd(client_num_t c);

 private:
  // ---- loop plumbing (loop.cpp)
  void dispatch(const io_uring_cqe& cqe);
  void arm_accept();
  void arm_wake();
  void on_accept(const io_uring_cqe& cqe);
  void on_timer(server::timer_id id);
  void begin_stop();
  void begin_drain();
  void cancel_accept();
  void tick();
  void run_posted();
  void run_deferred();
  /// Takes a slot (and its timer id) for @p fd; the caller gives it a handler. nullptr when
  /// every slot is taken.
  transport* open_slot(int fd, bool counted);

  // ---- bytes in and out (transport_io.cpp)
  void arm_recv(transport& t);
  void on_recv(transport& t, const io_uring_cqe& cqe);
  void on_ciphertext(transport& t, std::span<const std::byte> bytes);
  void on_send(transport& t, const io_uring_cqe& cqe);
  void on_transport_ready(transport& t);

  // ---- PROXY protocol (proxy_preamble.cpp)
  /// At accept: closes @p fd (counted, logged) and returns true if its peer is not trusted.
  bool refuse_untrusted(int fd);
  /// Feeds @p bytes to the transport's PROXY parser; leaves in @p bytes what follows a
  /// complete header (empty while incomplete, or when the header failed and t closes).
  void take_preamble(transport& t, std::span<const std::byte>& bytes);
  /// The peer closed before its header was complete.
  void preamble_eof(transport& t);

  // ---- close path (close_path.cpp)
  void finalize_closed();
  void fire_write_callback(client_num_t c, server::write_kind kind, bool failed);

  // ---- live connections moving out while draining (move_out.cpp) and in (move_in.cpp)
  /// Starts moving every connection that can move now (at the drain and on each tick).
  void move_ready();
  [[nodiscard]] bool can_move(const transport& t) const noexcept;
  /// Cancels @p t's recv; finish_move() runs once its last completion is in.
  void freeze(transport& t);
  void finish_move(transport& t);
  /// The move did not happen: reads what was held and receives again.
  void thaw(transport& t, bool rearm);
  /// The mover refused: nothing more moves from this loop; what stayed drains.
  void give_up_moving();
  void adopt(int fd, handover::connection_state& st);
  std::shared_ptr<connection_mover> mover_;          // loop thread: set by begin_drain
  std::shared_ptr<connection_mover> mover_offered_;  // guarded by cross_mutex_
  bool mover_failed_ = false;

  // ---- memory of idle connections (idle_memory.cpp)
  void release_idle();
  void release_idle_pools();
  std::uint64_t next_pool_release_ms_ = 0;
  std::vector<client_num_t> to_trim_;  // went idle; buffers are freed if they stay idle
  std::uint64_t next_trim_ms_ = 0;

  // ---- memory accounting and the cap (memory_cap.cpp)
 public:
  /// Adds what @p t's connection holds to @p m, by kind.
  static void account(const transport& t, memory_by_kind& m) noexcept;
  /// The @p n connections holding the most memory (a status request; not the hot path).
  [[nodiscard]] std::vector<connection_memory> largest_connections(std::size_t n);

 private:
  /// After each completion and each wake-up: counts and sheds when a count is due (one
  /// branch without a cap; memory_cap.cpp).
  void watch_memory();
  void enforce_memory_cap();
  /// At accept: closes @p fd (counted) and returns true while over the cap.
  bool refuse_over_cap(int fd);
  std::uint64_t next_memory_count_ms_ = 0;

  // ---- counters (stats.cpp)
  void note_handshake(const transport& t) noexcept;
  void note_closed(const transport& t) noexcept;
  server_stats stats_;
  std::uint64_t closed_connections_ = 0;

  network_server& self_;
  server_config config_;
  application_methods& app_;
  std::shared_ptr<shared_tls> tls_;  ///< null in plaintext mode
  std::unique_ptr<server::proxy_policy> proxy_ = server::make_proxy_policy(config_.proxy_protocol);
  std::uint64_t next_ticket_check_ms_ = 0;
  server::memory_trimmer trimmer_{config_.memory_trim_interval, config_.memory_trim_threshold};
  server::memory_budget cap_{config_.max_memory};
  io::ring ring_;
  std::optional<io::buffer_ring> buffers_;
  io::slot_map<transport> conns_;
  server::timer_ids timer_ids_;
  io::timer_wheel timers_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;
  std::uint16_t port_ = 0;
  std::uint64_t wake_buf_ = 0;
  bool accept_armed_ = false;
  bool accept_paused_ = false;
  bool stopping_ = false;
  std::uint64_t stop_deadline_ms_ = 0;
  std::uint64_t now_ms_ = 0;
  std::atomic<bool> stop_requested_{false};
  // Drain (a hand-over): no accepting; WebSockets get going_away() at drain_deadline_ms_.
  std::atomic<bool> drain_requested_{false};
  std::atomic<std::int64_t> drain_grace_ms_{0};
  bool draining_ = false;
  bool drain_went_away_ = false;
  std::atomic<bool> accepting_{true};           // see network_server::accepting()
  std::atomic<bool> recheck_requested_{false};  // see network_server::recheck_accept()
  std::uint64_t drain_deadline_ms_ = 0;
  std::vector<client_num_t> to_finalize_;
  std::vector<client_num_t> to_resume_;
  std::vector<std::byte> scratch_;  // one per loop: decrypted bytes live here for one CQE
  server::ws_shared ws_;            // per-loop WebSocket resources (ws_shared.hpp)
  // Static files (http1_file.cpp): document root, cache, 404 page. After config_.
  std::unique_ptr<server::file_service> files_ =
      std::make_unique<server::file_service>(config_.files);

  // Cross-thread entry points: eventfd_trigger and post are called from other threads.
  std::mutex cross_mutex_;
  std::unordered_map<client_num_t, int> event_fds_;  // live application eventfds
  std::vector<std::function<void()>> posted_;
  std::vector<std::function<void()>> running_;  // loop-thread copy being run
  bool stopping_posts_ = false;                 // guarded by cross_mutex_

  // Topics (topics.hpp). Other loops post to this one through the hub: it is detached first
  // thing in ~impl, before the post queue and the wake descriptor go.
  server::topic_service topics_;

  // Last: listed for debuggers (tools/gdb/ns.gdb) once everything above exists.
  server::debug_entry debug_{this};
};

}  // namespace ns
