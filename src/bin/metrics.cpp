// SPDX-License-Identifier: MIT
#include "bin/metrics.hpp"

#include <array>
#include <functional>
#include <string_view>
#include <vector>

#include "bin/prometheus_text.hpp"

namespace ns::serve {
namespace {

using prom::label;
using prom::metric_type;

// One family with a sample per thread, read from each thread's sample by @p get.
void per_thread(prom::text_writer& w, std::span<const thread_sample> threads, std::string_view name,
                metric_type type, std::string_view help,
                const std::function<std::uint64_t(const thread_sample&)>& get) {
  w.family(name, type, help);
  for (std::size_t i = 0; i < threads.size(); ++i) {
    const std::string t = std::to_string(i);
    w.sample(name, {label{"thread", t}}, get(threads[i]));
  }
}

void single(prom::text_writer& w, std::string_view name, metric_type type, std::string_view help,
            std::uint64_t value) {
  w.family(name, type, help);
  w.sample(name, {}, value);
}

void loop_counters(prom::text_writer& w, std::span<const thread_sample> th) {
  constexpr auto C = metric_type::counter;
  constexpr auto G = metric_type::gauge;
  per_thread(w, th, "ns_connections_accepted_total", C, "HTTP(S) connections accepted.",
             [](const thread_sample& s) { return s.stats.connections_total; });
  per_thread(w, th, "ns_connections_open", G, "HTTP(S) connections open now.",
             [](const thread_sample& s) { return s.stats.connections_open; });
  per_thread(w, th, "ns_connection_buffer_bytes", G,
             "Buffer bytes the open connections hold now (queues, parsers, messages; not TLS "
             "state or zlib streams).",
             [](const thread_sample& s) { return s.stats.connection_bytes; });
  per_thread(w, th, "ns_http_requests_total", C,
             "Complete HTTP requests handed to the application (upgrades included).",
             [](const thread_sample& s) { return s.stats.requests; });
  per_thread(w, th, "ns_http_responses_total", C, "HTTP responses fully queued.",
             [](const thread_sample& s) { return s.stats.responses; });
  per_thread(w, th, "ns_received_bytes_total", C,
             "Bytes received on HTTP(S) sockets (ciphertext on TLS).",
             [](const thread_sample& s) { return s.stats.bytes_in; });
  per_thread(w, th, "ns_sent_bytes_total", C, "Bytes sent on HTTP(S) sockets (ciphertext on TLS).",
             [](const thread_sample& s) { return s.stats.bytes_out; });
  per_thread(w, th, "ns_websocket_messages_received_total", C,
             "Complete WebSocket messages delivered to the application.",
             [](const thread_sample& s) { return s.stats.ws_messages_in; });
  per_thread(w, th, "ns_websocket_messages_sent_total", C,
             "WebSocket messages queued (a broadcast counts once per receiver).",
             [](const thread_sample& s) { return s.stats.ws_messages_out; });
  per_thread(w, th, "ns_tls_handshakes_total", C, "TLS handshakes completed.",
             [](const thread_sample& s) { return s.stats.tls_handshakes; });
  per_thread(w, th, "ns_tls_resumptions_total", C, "TLS handshakes that resumed a session.",
             [](const thread_sample& s) { return s.stats.tls_resumptions; });
  per_thread(w, th, "ns_connections_moved_out_total", C,
             "Live connections moved to the process that replaced this one (an upgrade).",
             [](const thread_sample& s) { return s.stats.moved_out; });
  per_thread(w, th, "ns_connections_moved_in_total", C,
             "Live connections the replaced process moved to this one.",
             [](const thread_sample& s) { return s.stats.moved_in; });
  per_thread(w, th, "ns_connection_moves_refused_total", C,
             "Moves the new process did not take; those connections drained here.",
             [](const thread_sample& s) { return s.stats.moves_refused; });

  // Errors: one family, the kind as a label (sum them, or pick one).
  w.family("ns_connection_errors_total", C, "Connections that ended in an error, by kind.");
  for (std::size_t i = 0; i < th.size(); ++i) {
    const std::string t = std::to_string(i);
    const error_counters& e = th[i].stats.errors;
    const std::pair<std::string_view, std::uint64_t> kinds[] = {{"tls_handshake", e.tls_handshake},
                                                                {"tls", e.tls},
                                                                {"tls_truncated", e.tls_truncated},
                                                                {"socket", e.socket},
                                                                {"http", e.http},
                                                                {"timeout", e.timeouts},
                                                                {"websocket", e.websocket},
                                                                {"proxy", e.proxy}};
    for (const auto& [kind, n] : kinds) {
      w.sample("ns_connection_errors_total", {label{"thread", t}, label{"kind", kind}}, n);
    }
  }

  // Memory the connections hold, by kind (README "Memory"), and what --max-memory did.
  w.family("ns_connection_memory_bytes", G,
           "Bytes the open connections hold now, by kind (tls, input, output, websocket, zlib).");
  for (std::size_t i = 0; i < th.size(); ++i) {
    const std::string t = std::to_string(i);
    const memory_by_kind& m = th[i].stats.memory.accounted;
    const std::pair<std::string_view, std::uint64_t> kinds[] = {
        {"tls", m.tls}, {"input", m.input}, {"output", m.output}, {"websocket", m.websocket},
        {"zlib", m.zlib}};
    for (const auto& [kind, n] : kinds) {
      w.sample("ns_connection_memory_bytes", {label{"thread", t}, label{"kind", kind}}, n);
    }
  }
  per_thread(w, th, "ns_memory_shed_connections_total", C,
             "Connections closed to get back under --max-memory.",
             [](const thread_sample& s) { return s.stats.memory.shed_connections; });
  per_thread(w, th, "ns_memory_refused_total", C,
             "Connections closed at accept while over --max-memory.",
             [](const thread_sample& s) { return s.stats.memory.refused; });
  per_thread(w, th, "ns_memory_over_cap", G,
             "1 while the loop is above --max-memory's high-water mark (until below its low one).",
             [](const thread_sample& s) { return s.stats.memory.over_cap ? 1 : 0; });

  per_thread(w, th, "ns_file_cache_hits_total", C,
             "Static file cache lookups answered from memory.",
             [](const thread_sample& s) { return s.cache.hits; });
  per_thread(w, th, "ns_file_cache_misses_total", C,
             "Static file cache lookups that went to the disk.",
             [](const thread_sample& s) { return s.cache.misses; });
  per_thread(w, th, "ns_file_cache_evictions_total", C,
             "Cache entries dropped to stay within the byte bound.",
             [](const thread_sample& s) { return s.cache.evictions; });
  per_thread(w, th, "ns_file_cache_invalidations_total", C,
             "Cache entries dropped because the file changed.",
             [](const thread_sample& s) { return s.cache.invalidations; });
  per_thread(w, th, "ns_file_cache_bytes", G, "Bytes the file cache charges now.",
             [](const thread_sample& s) { return s.cache.bytes; });
  per_thread(w, th, "ns_file_cache_entries", G, "Files in the cache now.",
             [](const thread_sample& s) { return s.cache.entries; });

  per_thread(w, th, "ns_topic_subscriptions", G, "(connection, topic) subscriptions now.",
             [](const thread_sample& s) { return s.stats.topics.subscriptions; });
  per_thread(w, th, "ns_topic_deliveries_total", C, "Topic messages queued to subscribers.",
             [](const thread_sample& s) { return s.stats.topics.delivered; });
  per_thread(w, th, "ns_topic_dropped_slow_total", C, "Subscribers skipped as slow receivers.",
             [](const thread_sample& s) { return s.stats.topics.dropped_slow; });
}

void histograms(prom::text_writer& w, std::span<const thread_sample> th) {
  server_histograms sum;
  for (const thread_sample& s : th) {
    const server_histograms& h = s.stats.histograms;
    for (std::size_t c = 0; c < sum.request_seconds.size(); ++c) {
      sum.request_seconds[c].merge(h.request_seconds[c]);
    }
    sum.tls_handshake_seconds.merge(h.tls_handshake_seconds);
    sum.ws_message_in_bytes.merge(h.ws_message_in_bytes);
    sum.ws_message_out_bytes.merge(h.ws_message_out_bytes);
    sum.queued_output_bytes.merge(h.queued_output_bytes);
  }
  constexpr auto H = metric_type::histogram;
  w.family("ns_http_request_duration_seconds", H,
           "From a request's head complete to its response's last byte queued, by status class.");
  static constexpr std::array<std::string_view, 6> classes = {"unknown", "1xx", "2xx",
                                                              "3xx",     "4xx", "5xx"};
  for (std::size_t c = 0; c < classes.size(); ++c) {
    w.histogram("ns_http_request_duration_seconds", {label{"status_class", classes[c]}},
                sum.request_seconds[c]);
  }
  w.family("ns_tls_handshake_duration_seconds", H, "From accept to the TLS handshake's end.");
  w.histogram("ns_tls_handshake_duration_seconds", {}, sum.tls_handshake_seconds);
  w.family("ns_websocket_message_size_bytes", H,
           "WebSocket message payload sizes (uncompressed), by direction.");
  w.histogram("ns_websocket_message_size_bytes", {label{"direction", "in"}},
              sum.ws_message_in_bytes);
  w.histogram("ns_websocket_message_size_bytes", {label{"direction", "out"}},
              sum.ws_message_out_bytes);
  w.family("ns_queued_output_bytes", H,
           "Bytes waiting in a connection's output queue when a send is submitted.");
  w.histogram("ns_queued_output_bytes", {}, sum.queued_output_bytes);
}

void redis_counters(prom::text_writer& w, const redis_engine_stats& r) {
  constexpr auto C = metric_type::counter;
  constexpr auto G = metric_type::gauge;
  single(w, "ns_redis_connected", G, "1 while both links to Redis are up.", r.connected ? 1 : 0);
  single(w, "ns_redis_channels", G, "Channels the process subscribes to now.", r.channels);
  single(w, "ns_redis_published_total", C, "PUBLISH commands Redis confirmed.", r.published);
  single(w, "ns_redis_received_total", C, "Messages of other instances handed to the hub.",
         r.received);
  single(w, "ns_redis_own_echoes_total", C, "This process's own publishes back from Redis.",
         r.own_echoes);
  single(w, "ns_redis_connects_total", C, "Links to Redis established.", r.connects);
  w.family("ns_redis_disconnects_total", C, "Established links to Redis lost, by link.");
  w.sample("ns_redis_disconnects_total", {label{"link", "subscriber"}}, r.subscriber_disconnects);
  w.sample("ns_redis_disconnects_total", {label{"link", "publisher"}}, r.publisher_disconnects);
  w.family("ns_redis_dropped_total", C, "Messages that did not make it, by reason.");
  const std::pair<std::string_view, std::uint64_t> reasons[] = {
      {"malformed", r.dropped.malformed},           {"oversized", r.dropped.oversized},
      {"too_large", r.dropped.too_large},           {"queue_full", r.dropped.queue_full},
      {"lost_in_flight", r.dropped.lost_in_flight}, {"refused", r.dropped.refused}};
  for (const auto& [reason, n] : reasons) {
    w.sample("ns_redis_dropped_total", {label{"reason", reason}}, n);
  }
}

}  // namespace

std::string metrics_text(std::span<const thread_sample> threads, const process_sample& process) {
  std::string out;
  out.reserve(16384);
  prom::text_writer w(out);
  single(w, "ns_threads", metric_type::gauge, "Event loops (threads) serving.", threads.size());
  loop_counters(w, threads);
  if (process.topics) {
    // The hub's process-wide counts: per loop, a topic would count once per loop, and
    // publishes made outside any loop would be missed.
    single(w, "ns_topics", metric_type::gauge, "Distinct topics with a subscriber now.",
           process.topics->topics);
    single(w, "ns_topic_publishes_total", metric_type::counter, "Publishes made in this process.",
           process.topics->published);
    single(w, "ns_topic_injected_total", metric_type::counter,
           "Publishes of other instances handed in by the engine.", process.topics->injected);
  }
  if (process.redis) redis_counters(w, *process.redis);
  single(w, "ns_access_log_dropped_total", metric_type::counter,
         "Access log lines dropped because the writer fell behind.", process.access_log_dropped);
  histograms(w, threads);
  return out;
}

}  // namespace ns::serve
