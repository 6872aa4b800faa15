// SPDX-License-Identifier: MIT
#pragma once
// network_server::impl — the loop that glues io ↔ tls ↔ http ↔ application callbacks.
//
// Every completion is tagged (io/op.hpp) with its connection's slot and generation, so a
// completion for a connection that has closed is recognised and dropped. Connections are never
// freed inside a callback: a close only marks the connection; the one close path
// (finalize_closed) runs after each completion has been fully handled, once every in-flight
// operation of the connection has completed.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include <network_server/log.hpp>
#include <network_server/server.hpp>

#include "io/buffer_ring.hpp"
#include "io/op.hpp"
#include "io/ring.hpp"
#include "io/slot_map.hpp"
#include "io/timer_wheel.hpp"
#include "server/connection.hpp"
#include "server/memory_trim.hpp"
#include "server/shared_tls_impl.hpp"
#include "tls/context.hpp"

namespace ns {

class network_server::impl {
 public:
  impl(network_server& self, server_config config, application_methods& app,
       std::shared_ptr<shared_tls> tls);
  ~impl();

  int run();
  void request_stop() noexcept;
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

  int http_write(client_num_t c, std::span<const iovec> pieces, server::write_kind kind);
  int http_close(client_num_t c);

  // ---- raw descriptors, eventfds, post (server_raw.cpp)
  int raw_adopt(int fd, client_num_t& out);
  int raw_read(client_num_t c, std::span<std::byte> buf, std::span<const iovec> iov, bool vector);
  int raw_write(client_num_t c, std::span<const iovec> pieces, server::write_kind kind);
  int raw_close(client_num_t c);
  client_num_t eventfd_open();
  int eventfd_prepare(client_num_t c, std::uint64_t info);
  int eventfd_trigger(client_num_t c);
  int eventfd_close(client_num_t c);
  int post(std::function<void()> fn);

 private:
  using conn = server::connection;

  // ---- loop plumbing (server_loop.cpp)
  void dispatch(const io_uring_cqe& cqe);
  void arm_accept();
  void arm_wake();
  void arm_recv(client_num_t c, conn& k);
  void flush(client_num_t c, conn& k);
  void on_accept(const io_uring_cqe& cqe);
  void on_recv(client_num_t c, conn& k, const io_uring_cqe& cqe);
  void on_send(client_num_t c, conn& k, const io_uring_cqe& cqe);
  void on_timer(std::uint32_t slot);
  void set_phase(std::uint32_t slot, conn& k, server::conn_phase p);
  void progress_timer(client_num_t c, conn& k);
  void begin_stop();
  void tick();
  [[nodiscard]] std::uint64_t now_ms() const noexcept { return now_ms_; }

  void on_raw_read(client_num_t c, conn& k, const io_uring_cqe& cqe);
  void on_event_read(client_num_t c, conn& k, const io_uring_cqe& cqe);
  void run_posted();
  [[nodiscard]] io_uring_sqe* sqe_for(client_num_t c, io::op_kind kind);

  // ---- close path (server_close.cpp)
  void close_graceful(client_num_t c, conn& k);
  void close_hard(client_num_t c, conn& k);
  void finalize_closed();
  void fire_write_callback(client_num_t c, server::write_kind kind, bool failed);

  // ---- bytes in (server_http.cpp)
  void on_ciphertext(client_num_t c, conn& k, std::span<const std::byte> bytes);
  void report_error(client_num_t c, conn& k, std::string_view what,
                    log_level level = log_level::info);
  void on_plaintext(client_num_t c, conn& k, std::span<const std::byte> bytes);
  void parse_buffered(client_num_t c, conn& k);
  void resume_pending();
  void answer_error(client_num_t c, conn& k, int status);
  void queue_plain(conn& k, std::span<const std::byte> bytes);
  bool queue_encrypted(client_num_t c, conn& k, std::span<const std::byte> plaintext);
  void drain_tls_output(conn& k);

  // ---- responses beyond one write: files, chunked, streamed bodies (server_file.cpp,
  //      server_body.cpp)
 public:
  int http_send_file(client_num_t c, const http_request& req, std::string_view path,
                     bool use_target, file_source from);
  int http_post_read(client_num_t c);
  int http_begin_chunked(client_num_t c, int status, std::span<const http_header> headers);
  int http_write_chunk(client_num_t c, std::span<const std::byte> data);
  int http_end_chunked(client_num_t c);
  [[nodiscard]] file_cache_stats cache_stats() const noexcept;

 private:
  bool queue_out(client_num_t c, conn& k, std::span<const std::byte> bytes);
  void response_done(client_num_t c, conn& k);
  void release_responses(client_num_t c, conn& k);
  void file_pump(client_num_t c, conn& k);
  void file_submit_read(client_num_t c, conn& k, std::byte* dst, std::uint64_t len,
                        std::uint64_t off);
  void file_finish(client_num_t c, conn& k);
  void on_file_read(client_num_t c, conn& k, const io_uring_cqe& cqe);
  void flush_stage(client_num_t c, conn& k);
  bool refuse_method(client_num_t c, conn& k);
  void on_expect_continue(client_num_t c, conn& k);
  void start_body_stream(client_num_t c, conn& k, std::span<const std::byte> rest);
  void on_body_plaintext(client_num_t c, conn& k, std::span<const std::byte> bytes);
  void feed_body(client_num_t c, conn& k, std::span<const std::byte> in);
  void drain_body_inbuf(client_num_t c, conn& k);
  void resume_body(client_num_t c, conn& k);
  void pause_recv(client_num_t c, conn& k);
  void unpause_recv(client_num_t c, conn& k);

  // ---- WebSocket (server_ws.cpp, server_ws_write.cpp)
 public:
  int ws_write(client_num_t c, std::span<const iovec> pieces, ws_message_type type,
               server::write_kind kind);
  int ws_close(client_num_t c, std::uint16_t code, std::string_view reason);
  void ws_broadcast_begin(std::span<const std::byte> data, ws_message_type type);
  void ws_broadcast_to(client_num_t c, broadcast_result& result);
  void ws_broadcast_end() noexcept;
  [[nodiscard]] std::int64_t queued_bytes(client_num_t c) noexcept;

 private:
  void ws_init();
  void ws_on_upgrade(client_num_t c, conn& k, std::span<const std::byte> rest);
  void ws_reject(client_num_t c, conn& k, int status, std::string_view extra = {});
  void ws_on_plaintext(client_num_t c, conn& k, std::span<const std::byte> bytes);
  void ws_pump(client_num_t c, conn& k);
  bool ws_queue(client_num_t c, conn& k, std::span<const std::byte> bytes);
  bool ws_send_frame(client_num_t c, conn& k, const ws::encoded_frame& f);
  [[nodiscard]] std::chrono::milliseconds ws_phase_limit(const conn& k) const noexcept;
  void ws_on_timer(client_num_t c, conn& k);
  void ws_after_send(client_num_t c, conn& k);
  void ws_watch_send(client_num_t c, conn& k);
  void ws_arm_timer(std::uint32_t slot, conn& k);
  void ws_going_away(client_num_t c, conn& k);

  // ---- memory of idle connections (server_idle.cpp)
  void note_idle(client_num_t c, conn& k);
  void release_idle();
  void release_idle_pools();
  std::uint64_t next_pool_release_ms_ = 0;
  std::vector<client_num_t> to_trim_;  // went idle; buffers are freed if they stay idle
  std::uint64_t next_trim_ms_ = 0;

  // ---- counters and the response log hook (server_stats.cpp)
 public:
  [[nodiscard]] server_stats stats() const noexcept;

 private:
  void note_output(conn& k, std::span<const std::byte> plaintext) noexcept;
  void note_response(client_num_t c, conn& k);
  void note_error(std::string_view what) noexcept;
  void note_handshake(const conn& k) noexcept;
  void note_closed(const conn& k) noexcept;
  void note_upgrade_response(client_num_t c, conn& k, int status, std::size_t bytes);
  server_stats stats_;
  std::uint64_t closed_connections_ = 0;

  network_server& self_;
  server_config config_;
  application_methods& app_;
  std::shared_ptr<shared_tls> tls_;  ///< null in plaintext mode
  std::uint64_t next_ticket_check_ms_ = 0;
  server::memory_trimmer trimmer_{config_.memory_trim_interval, config_.memory_trim_threshold};
  io::ring ring_;
  std::optional<io::buffer_ring> buffers_;
  io::slot_map<conn> conns_;
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
  std::vector<client_num_t> to_finalize_;
  std::vector<client_num_t> to_resume_;
  std::vector<std::byte> scratch_;  // one per loop: decrypted bytes live here for one CQE
  server::ws_shared ws_;            // per-loop WebSocket resources (server_ws.cpp)
  // Static files (server_file.cpp): document root, cache, 404 page. After config_.
  std::unique_ptr<server::file_service> files_ =
      std::make_unique<server::file_service>(config_.files);

  // Cross-thread entry points: eventfd_trigger and post are called from other threads.
  std::mutex cross_mutex_;
  std::unordered_map<client_num_t, int> event_fds_;  // live application eventfds
  std::vector<std::function<void()>> posted_;
  std::vector<std::function<void()>> running_;  // loop-thread copy being run
  bool stopping_posts_ = false;                 // guarded by cross_mutex_
};

}  // namespace ns
