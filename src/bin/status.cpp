// SPDX-License-Identifier: MIT
#include "bin/status.hpp"

#include <mutex>

#include "bin/prometheus_text.hpp"
#include "bin/status_memory.hpp"
#include "proxy/address.hpp"

namespace ns::serve {
namespace {

// The samples of one status or metrics request, each filled by its server on its loop thread.
struct collection {
  std::mutex mutex;
  std::vector<thread_sample> samples;
  std::size_t remaining = 0;
};

void reply(network_server& origin, client_num_t client_num, std::string_view type,
           const std::string& body) {
  const http_header headers[] = {{"Content-Type", type}, {"Cache-Control", "no-store"}};
  if (origin.http_respond(client_num, 200, headers, body) < 0) origin.http_close(client_num);
}

// "ip:port" or "[ipv6]:port" (the server's peer text) as an endpoint; family none if neither.
proxy::endpoint parse_client(std::string_view text) {
  proxy::endpoint e;
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return e;
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    if (proxy::parse_ipv6(host.substr(1, host.size() - 2), std::span<std::uint8_t, 16>(e.ip))) {
      e.fam = proxy::family::v6;
    }
  } else if (proxy::parse_ipv4(host, std::span<std::uint8_t, 4>(e.ip.data(), 4))) {
    e.fam = proxy::family::v4;
  }
  return e;
}

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
  t.moved_out += s.moved_out;
  t.moved_in += s.moved_in;
  t.moves_refused += s.moves_refused;
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
  j += "}, \"moved_connections\": {";
  field(j, "out", s.moved_out);
  field(j, "in", s.moved_in);
  field(j, "refused", s.moves_refused, true);
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

void status_hub::gather(network_server& origin, const access_log* log, bool largest,
                        gathered done) const {
  auto col = std::make_shared<collection>();
  col->samples.resize(servers_.size());
  col->remaining = servers_.size();
  // Runs once every server has given its sample: back on the origin's loop thread.
  const topic_hub* topics = topics_;
  const redis_engine* redis = redis_;
  auto finish = [col, log, topics, redis, done = std::move(done)] {
    process_sample p;
    if (topics != nullptr) p.topics = topics->stats();
    if (redis != nullptr) p.redis = redis->stats();
    p.access_log_dropped = log != nullptr ? log->dropped() : 0;
    done(col->samples, p);
  };
  auto done_one = [&origin, finish, col] {
    std::lock_guard lock(col->mutex);
    if (--col->remaining == 0 && origin.post(finish) < 0) {
      // The origin is stopping; its connections close without an answer.
    }
  };
  for (std::size_t i = 0; i < servers_.size(); ++i) {
    network_server* s = servers_[i];
    const int rc = s->post([s, i, col, largest, done_one] {
      {
        std::lock_guard lock(col->mutex);
        col->samples[i] = {s->stats(), s->http_file_cache_stats(), {}};
        if (largest) col->samples[i].largest = s->largest_connections(status_largest_connections);
      }
      done_one();
    });
    if (rc < 0) done_one();  // a stopping server contributes zeros
  }
}

void status_hub::answer(network_server& origin, client_num_t client_num,
                        const access_log* log) const {
  gather(origin, log, true,
         [&origin, client_num](std::vector<thread_sample>& samples, const process_sample& p) {
           server_stats total;
           std::vector<connection_memory> largest;
           for (thread_sample& s : samples) {
             add_stats(total, s.stats);
             keep_largest(largest, std::move(s.largest), status_largest_connections);
           }
           if (p.topics) {
             total.topics.topics = p.topics->topics;
             total.topics.published = p.topics->published;
           }
           reply(origin, client_num, "application/json",
                 stats_json(total, samples.size(), p.access_log_dropped,
                            p.redis ? &*p.redis : nullptr, largest));
         });
}

void status_hub::answer_metrics(network_server& origin, client_num_t client_num,
                                const access_log* log) const {
  gather(origin, log, false,
         [&origin, client_num](std::vector<thread_sample>& samples, const process_sample& p) {
           reply(origin, client_num, prom::content_type, metrics_text(samples, p));
         });
}

bool metrics_endpoint::allows(std::string_view address) const {
  return from.empty() || from.contains(parse_client(address));
}

void not_found_app::http_read_callback(const http_request&, client_num_t c) {
  if (server_->http_respond(c, 404, {}, std::string_view("not found\n")) < 0) {
    server_->http_close(c);
  }
}

void instrumented_app::server_started_callback(network_server& server) {
  server_ = &server;
  inner_.server_started_callback(server);
}

void instrumented_app::http_read_callback(const http_request& request, client_num_t c) {
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (!status_path_.empty() && request.path() == status_path_ && get) {
    hub_.answer(*server_, c, log_);
    return;
  }
  if (metrics_ != nullptr && request.path() == metrics_->path && get) {
    // 403, as nginx's allow/deny answers: a scraper outside --metrics-from sees at once that
    // it is refused, not that the path is wrong; the path itself is no secret.
    if (!metrics_->allows(server_->client_address(c))) {
      if (server_->http_respond(c, 403, {}, std::string_view("forbidden\n")) < 0) {
        server_->http_close(c);
      }
      return;
    }
    hub_.answer_metrics(*server_, c, log_);
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
