// SPDX-License-Identifier: MIT
#include "bin/status.hpp"

#include <mutex>

#include "bin/status_memory.hpp"

namespace ns::serve {
namespace {

// The counters of one status request, filled by each server on its own loop thread.
struct collection {
  std::mutex mutex;
  server_stats total;
  std::vector<connection_memory> largest;
  std::size_t remaining = 0;
};

void add_stats(server_stats& t, const server_stats& s) {
  t.connections_total += s.connections_total;
  t.connections_open += s.connections_open;
  t.requests += s.requests;
  t.responses += s.responses;
  t.bytes_in += s.bytes_in;
  t.bytes_out += s.bytes_out;
  t.ws_messages_in += s.ws_messages_in;
  t.ws_messages_out += s.ws_messages_out;
  t.tls_handshakes += s.tls_handshakes;
  t.tls_resumptions += s.tls_resumptions;
  t.cache_hits += s.cache_hits;
  t.cache_misses += s.cache_misses;
  t.connection_bytes += s.connection_bytes;
  add_memory(t.memory, s.memory);
  t.errors.tls_handshake += s.errors.tls_handshake;
  t.errors.tls += s.errors.tls;
  t.errors.tls_truncated += s.errors.tls_truncated;
  t.errors.socket += s.errors.socket;
  t.errors.http += s.errors.http;
  t.errors.timeouts += s.errors.timeouts;
  t.errors.websocket += s.errors.websocket;
  t.topics.topics += s.topics.topics;
  t.topics.subscriptions += s.topics.subscriptions;
  t.topics.published += s.topics.published;
  t.topics.delivered += s.topics.delivered;
  t.topics.dropped_slow += s.topics.dropped_slow;
  t.errors.proxy += s.errors.proxy;
}

}  // namespace

std::string stats_json(const server_stats& s, std::size_t threads, std::uint64_t log_dropped,
                       const redis_engine_stats* redis,
                       std::span<const connection_memory> largest) {
  auto field = [](std::string& out, const char* name, std::uint64_t v, bool last = false) {
    out += '"';
    out += name;
    out += "\": ";
    out += std::to_string(v);
    out += last ? "" : ", ";
  };
  std::string j = "{";
  field(j, "threads", threads);
  j += "\"connections\": {";
  field(j, "open", s.connections_open);
  field(j, "buffer_bytes", s.connection_bytes);
  field(j, "total", s.connections_total, true);
  j += "}, ";
  append_memory_json(j, s.memory, largest);
  field(j, "requests", s.requests);
  field(j, "responses", s.responses);
  j += "\"bytes\": {";
  field(j, "in", s.bytes_in);
  field(j, "out", s.bytes_out, true);
  j += "}, \"websocket_messages\": {";
  field(j, "in", s.ws_messages_in);
  field(j, "out", s.ws_messages_out, true);
  j += "}, \"tls\": {";
  field(j, "handshakes", s.tls_handshakes);
  field(j, "resumptions", s.tls_resumptions, true);
  j += "}, \"cache\": {";
  field(j, "hits", s.cache_hits);
  field(j, "misses", s.cache_misses, true);
  j += "}, \"errors\": {";
  field(j, "tls_handshake", s.errors.tls_handshake);
  field(j, "tls", s.errors.tls);
  field(j, "tls_truncated", s.errors.tls_truncated);
  field(j, "socket", s.errors.socket);
  field(j, "http", s.errors.http);
  field(j, "timeouts", s.errors.timeouts);
  field(j, "websocket", s.errors.websocket);
  field(j, "proxy", s.errors.proxy, true);
  j += "}, \"topics\": {";
  field(j, "topics", s.topics.topics);
  field(j, "subscriptions", s.topics.subscriptions);
  field(j, "published", s.topics.published);
  field(j, "delivered", s.topics.delivered);
  field(j, "dropped_slow", s.topics.dropped_slow, true);
  j += "}, ";
  if (redis != nullptr) {
    const redis_engine_stats& r = *redis;
    j += "\"redis\": {\"connected\": ";
    j += r.connected ? "true, " : "false, ";
    field(j, "channels", r.channels);
    field(j, "published", r.published);
    field(j, "received", r.received);
    field(j, "own_echoes", r.own_echoes);
    field(j, "connects", r.connects);
    field(j, "subscriber_disconnects", r.subscriber_disconnects);
    field(j, "publisher_disconnects", r.publisher_disconnects);
    j += "\"dropped\": {";
    field(j, "malformed", r.dropped.malformed);
    field(j, "oversized", r.dropped.oversized);
    field(j, "too_large", r.dropped.too_large);
    field(j, "queue_full", r.dropped.queue_full);
    field(j, "lost_in_flight", r.dropped.lost_in_flight);
    field(j, "refused", r.dropped.refused, true);
    j += "}}, ";
  }
  field(j, "access_log_dropped", log_dropped, true);
  j += "}\n";
  return j;
}

void status_hub::answer(network_server& origin, client_num_t client_num, bool head,
                        const access_log* log) const {
  auto col = std::make_shared<collection>();
  col->remaining = servers_.size();
  const std::size_t threads = servers_.size();
  // Runs once every server has added its counters: back on the origin's loop thread.
  const topic_hub* topics = topics_;
  const redis_engine* redis = redis_;
  auto reply = [&origin, client_num, head, log, threads, col, topics, redis] {
    if (topics != nullptr) {
      const topic_hub_stats h = topics->stats();
      col->total.topics.topics = h.topics;
      col->total.topics.published = h.published;
    }
    const redis_engine_stats r = redis != nullptr ? redis->stats() : redis_engine_stats{};
    const std::string body = stats_json(col->total, threads, log ? log->dropped() : 0,
                                        redis != nullptr ? &r : nullptr, col->largest);
    std::string response =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n";
    if (!head) response += body;
    if (origin.http_write(client_num, response) < 0) origin.http_close(client_num);
  };
  auto done_one = [&origin, reply, col] {
    std::lock_guard lock(col->mutex);
    if (--col->remaining == 0 && origin.post(reply) < 0) {
      // The origin is stopping; its connections close without an answer.
    }
  };
  for (network_server* s : servers_) {
    const int rc = s->post([s, col, done_one] {
      {
        std::lock_guard lock(col->mutex);
        add_stats(col->total, s->stats());
        keep_largest(col->largest, s->largest_connections(status_largest_connections),
                     status_largest_connections);
      }
      done_one();
    });
    if (rc < 0) done_one();  // a stopping server contributes nothing
  }
}

void instrumented_app::server_started_callback(network_server& server) {
  server_ = &server;
  inner_.server_started_callback(server);
}

void instrumented_app::http_read_callback(const http_request& request, client_num_t c) {
  if (!status_path_.empty() && request.path() == status_path_ &&
      (request.method == "GET" || request.method == "HEAD")) {
    hub_.answer(*server_, c, request.method == "HEAD", log_);
    return;
  }
  inner_.http_read_callback(request, c);
}

void instrumented_app::http_response_log_callback(client_num_t c, const http_request& request,
                                                  const http_response_info& info) {
  if (log_ != nullptr) log_->log(request, info);
  inner_.http_response_log_callback(c, request, info);
}

}  // namespace ns::serve
