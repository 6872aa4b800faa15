// SPDX-License-Identifier: MIT
#pragma once
// ns_serve's front application: wraps the site's application (static files, WebSocket
// endpoints) and adds what an operator wants around it — the access log, the opt-in
// --status-path endpoint with the counters of every thread as JSON, and the opt-in
// --metrics-path endpoint with the same counters and histograms for Prometheus (metrics.hpp).
//
// Every callback is forwarded to the wrapped application unchanged, except a GET/HEAD of the
// status or metrics path, which is answered here.

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <network_server/network_server.hpp>
#include <network_server/redis_engine.hpp>

#include "bin/access_log.hpp"
#include "bin/metrics.hpp"
#include "proxy/networks.hpp"

namespace ns::serve {

/// The servers of all threads, so one thread's status request can gather everyone's counters.
/// Each server's counters are read on its own loop thread (through `post`); the last one to
/// answer posts the JSON back to the thread that got the request.
class status_hub {
 public:
  void add(network_server& server) { servers_.push_back(&server); }
  /// The servers' shared topic hub: its process-wide counts replace the per-loop sums that
  /// would count a topic once per loop (and miss publishes made outside any loop).
  void set_topics(const topic_hub* topics) { topics_ = topics; }
  /// The cluster engine (--redis), whose counters become the "redis" object; null: none.
  void set_redis(const redis_engine* redis) { redis_ = redis; }
  /// Answers @p client_num on @p origin (whose loop thread calls this) with the sum of all
  /// servers' stats (http_respond: HEAD gets no body).
  void answer(network_server& origin, client_num_t client_num, const access_log* log) const;
  /// The same as Prometheus' text exposition (metrics_text): per thread, with histograms.
  void answer_metrics(network_server& origin, client_num_t client_num,
                      const access_log* log) const;

 private:
  /// Gets every server's sample on its own loop thread (through `post`: the loops' counters
  /// are plain integers only their thread writes), then calls @p done on @p origin's thread.
  /// @p largest: also each loop's connections holding the most memory (a walk of them all;
  /// the JSON shows them, the metrics do not).
  using gathered = std::function<void(std::vector<thread_sample>&, const process_sample&)>;
  void gather(network_server& origin, const access_log* log, bool largest, gathered done) const;

  std::vector<network_server*> servers_;  // filled before the loops start, read-only after
  const topic_hub* topics_ = nullptr;
  const redis_engine* redis_ = nullptr;
};

/// The JSON document of the status endpoint (exposed for tests); with @p redis, a "redis"
/// object with the engine's counters; @p largest: the connections holding the most memory.
std::string stats_json(const server_stats& total, std::size_t threads, std::uint64_t log_dropped,
                       const redis_engine_stats* redis = nullptr,
                       std::span<const connection_memory> largest = {});

/// Where the metrics are served and to whom.
struct metrics_endpoint {
  std::string path;          ///< URL path, empty: no metrics
  proxy::network_list from;  ///< clients allowed; empty: everyone

  /// Whether the client @p address ("ip:port" or "[ipv6]:port") may read the metrics.
  [[nodiscard]] bool allows(std::string_view address) const;
};

class instrumented_app : public application_methods {
 public:
  /// @p inner handles everything but the status and metrics paths; @p log (may be null) gets
  /// one line per response; @p status_path empty disables the endpoint; @p metrics null: no
  /// metrics here. All must outlive this.
  instrumented_app(application_methods& inner, access_log* log, std::string status_path,
                   const status_hub& hub, const metrics_endpoint* metrics = nullptr)
      : inner_(inner),
        log_(log),
        status_path_(std::move(status_path)),
        hub_(hub),
        metrics_(metrics) {}

  void server_started_callback(network_server& server) override;
  void http_read_callback(const http_request& request, client_num_t c) override;
  void http_response_log_callback(client_num_t c, const http_request& request,
                                  const http_response_info& info) override;

  // Forwarded unchanged.
  void accept_callback(client_num_t c) override { inner_.accept_callback(c); }
  void http_write_callback(client_num_t c, bool failed) override {
    inner_.http_write_callback(c, failed);
  }
  void http_writev_callback(client_num_t c, bool failed) override {
    inner_.http_writev_callback(c, failed);
  }
  bool http_stream_callback(const http_request& r, client_num_t c) override {
    return inner_.http_stream_callback(r, c);
  }
  void http_body_callback(client_num_t c, std::span<const std::byte> piece, bool last,
                          bool failed) override {
    inner_.http_body_callback(c, piece, last, failed);
  }
  void connection_error_callback(client_num_t c, std::string_view what) override {
    inner_.connection_error_callback(c, what);
  }
  void http_close_callback(client_num_t c) override { inner_.http_close_callback(c); }
  void raw_read_callback(std::span<std::byte> data, client_num_t c, bool failed) override {
    inner_.raw_read_callback(data, c, failed);
  }
  void raw_readv_callback(std::span<const iovec> iov, std::size_t bytes, client_num_t c,
                          bool failed) override {
    inner_.raw_readv_callback(iov, bytes, c, failed);
  }
  void raw_write_callback(client_num_t c, bool failed) override {
    inner_.raw_write_callback(c, failed);
  }
  void raw_writev_callback(client_num_t c, bool failed) override {
    inner_.raw_writev_callback(c, failed);
  }
  void raw_close_callback(client_num_t c) override { inner_.raw_close_callback(c); }
  void event_trigger_callback(client_num_t c, std::uint64_t info) override {
    inner_.event_trigger_callback(c, info);
  }
  void event_error_close_callback(client_num_t c, std::uint64_t info) override {
    inner_.event_error_close_callback(c, info);
  }
  ws_accept_decision websocket_upgrade_callback(const http_request& r, client_num_t c) override {
    return inner_.websocket_upgrade_callback(r, c);
  }
  void websocket_open_callback(client_num_t c) override { inner_.websocket_open_callback(c); }
  void websocket_read_callback(std::span<const std::byte> data, ws_message_type type,
                               client_num_t c, bool failed) override {
    inner_.websocket_read_callback(data, type, c, failed);
  }
  void websocket_write_callback(client_num_t c, bool failed) override {
    inner_.websocket_write_callback(c, failed);
  }
  void websocket_writev_callback(client_num_t c, bool failed) override {
    inner_.websocket_writev_callback(c, failed);
  }
  void websocket_drain_callback(client_num_t c) override { inner_.websocket_drain_callback(c); }
  std::string connection_moving(client_num_t c) override { return inner_.connection_moving(c); }
  void connection_moved_in(client_num_t c, bool websocket, std::string_view blob) override {
    inner_.connection_moved_in(c, websocket, blob);
  }
  void websocket_close_callback(client_num_t c, std::uint16_t code) override {
    inner_.websocket_close_callback(c, code);
  }

 private:
  application_methods& inner_;
  access_log* log_;
  std::string status_path_;
  const status_hub& hub_;
  const metrics_endpoint* metrics_;
  network_server* server_ = nullptr;
};

/// The site of the --metrics-listen listener: 404 for everything (its instrumented_app
/// answers the metrics path before this is asked).
class not_found_app : public application_methods {
 public:
  void server_started_callback(network_server& server) override { server_ = &server; }
  void http_read_callback(const http_request& request, client_num_t c) override;

 private:
  network_server* server_ = nullptr;
};

}  // namespace ns::serve
