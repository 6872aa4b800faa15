// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Counters of one `network_server` (one loop), read with `network_server::stats()`.
///
/// All counters are totals since the server was constructed, except `connections_open` and the
/// cache's current size. They are plain integers updated on the loop thread (no atomics on the
/// hot path): read them on that thread, or from another thread through `network_server::post`.
/// The histograms follow the same rule.

#include <array>
#include <cstdint>
#include <string>

#include <network_server/types.hpp>

#include <network_server/histogram.hpp>

namespace ns {

/// Bytes of memory held by connections, by kind (see README "Memory"). Summed from every open
/// connection when asked, never kept on the hot path.
struct memory_by_kind {
  /// TLS state: during the handshake a fixed estimate of OpenSSL's SSL object (measured, see
  /// tls::session::handshake_state_bytes), after it our record layer; plus the ciphertext
  /// buffers
  std::uint64_t tls = 0;
  std::uint64_t input = 0;      ///< request parser, held input, a pending PROXY header
  std::uint64_t output = 0;     ///< output queues, responses in progress, WebSocket frames
  std::uint64_t websocket = 0;  ///< WebSocket message reassembly (inflated)
  std::uint64_t zlib = 0;       ///< deflate/inflate streams, counted by zlib's allocator hook

  [[nodiscard]] std::uint64_t total() const noexcept {
    return tls + input + output + websocket + zlib;
  }
  memory_by_kind& operator+=(const memory_by_kind& o) noexcept {
    tls += o.tls;
    input += o.input;
    output += o.output;
    websocket += o.websocket;
    zlib += o.zlib;
    return *this;
  }
};

/// The memory cap (`server_config::max_memory`) and what it did.
struct memory_counters {
  memory_by_kind accounted;            ///< what this loop's open connections hold now, by kind
  std::uint64_t shed_connections = 0;  ///< connections closed to get back under the cap
  std::uint64_t refused = 0;           ///< connections closed at accept while over the cap
  std::uint64_t limit = 0;             ///< server_config::max_memory (0: no cap)
  bool over_cap = false;               ///< above the high-water mark (and not yet below low)
};

/// One connection of `network_server::largest_connections`.
struct connection_memory {
  client_num_t client = invalid_client;
  std::string peer;           ///< "ip:port" of the peer (the PROXY header's client if any)
  const char* kind = "http";  ///< "http", "ws" (what it speaks now)
  memory_by_kind bytes;
};

/// Why connections ended badly, one counter per kind.
struct error_counters {
  std::uint64_t tls_handshake = 0;  ///< TLS handshake failed (bad ClientHello, no shared cipher…)
  std::uint64_t tls = 0;            ///< TLS error after the handshake (bad record, alert)
  std::uint64_t tls_truncated = 0;  ///< peer closed TCP without close_notify (RFC 8446 §6.1)
  std::uint64_t socket = 0;         ///< recv/send failed (reset, broken pipe)
  std::uint64_t http = 0;           ///< requests answered with the server's own 4xx/5xx error
                                    ///< (parse error, 413/414/431, 501, 505) — not the app's
  std::uint64_t timeouts = 0;       ///< handshake, header or idle timeout closed the connection
  std::uint64_t websocket = 0;      ///< WebSocket protocol violations (close 1002/1007/1009…)
  /// PROXY protocol: a connection from outside the trusted networks (refused at accept, so not
  /// in connections_total), a malformed or truncated header, or none within the handshake
  /// timeout
  std::uint64_t proxy = 0;
};

/// Topics (topics.hpp) on this loop. The process-wide view (distinct topics, publishes from any
/// thread) is `topic_hub::stats()`.
struct topic_counters {
  std::uint64_t topics = 0;         ///< topics with at least one subscriber on this loop (now)
  std::uint64_t subscriptions = 0;  ///< (connection, topic) pairs on this loop (now)
  std::uint64_t published = 0;      ///< publishes made on this loop's thread
  std::uint64_t delivered = 0;      ///< messages queued to subscribers on this loop
  std::uint64_t dropped_slow = 0;   ///< subscribers skipped as slow receivers (see
                                    ///< `network_server::websocket_broadcast`)
};

/// Distributions on this loop (histogram.hpp); add the loops' with `histogram::merge`.
struct server_histograms {
  /// Request duration, from the request's head complete to its response's last byte queued
  /// (the time the request spends in the server and the application, not on the network), by
  /// status class: [0] status not recognised, [1] 1xx (101 upgrades) … [5] 5xx.
  std::array<histogram, 6> request_seconds{histogram{duration_layout}, histogram{duration_layout},
                                           histogram{duration_layout}, histogram{duration_layout},
                                           histogram{duration_layout}, histogram{duration_layout}};
  /// TLS handshake duration, from accept to the handshake's completion (PROXY header included).
  histogram tls_handshake_seconds{duration_layout};
  /// Sizes of complete WebSocket messages delivered to the application (after inflating).
  histogram ws_message_in_bytes{size_layout};
  /// Sizes of WebSocket messages queued, before compression (a broadcast: once per receiver).
  histogram ws_message_out_bytes{size_layout};
  /// Bytes waiting in a connection's output queue each time a send is submitted (HTTP(S) and
  /// WebSocket connections): how much output backs up behind slow or busy peers.
  histogram queued_output_bytes{size_layout};
};

/// A snapshot of `network_server::stats()`.
struct server_stats {
  std::uint64_t connections_total = 0;  ///< HTTP(S) connections accepted
  std::uint64_t connections_open = 0;   ///< of those, not closed yet
  std::uint64_t requests = 0;           ///< complete HTTP requests handed out (upgrades included)
  std::uint64_t responses = 0;          ///< responses fully queued (http_write, files, chunked)
  std::uint64_t bytes_in = 0;           ///< bytes received on HTTP(S) sockets (ciphertext on TLS)
  std::uint64_t bytes_out = 0;          ///< bytes sent on HTTP(S) sockets (ciphertext on TLS)
  std::uint64_t ws_messages_in = 0;     ///< complete WebSocket messages delivered to the app
  std::uint64_t ws_messages_out = 0;    ///< WebSocket messages queued (a broadcast: per receiver)
  std::uint64_t tls_handshakes = 0;     ///< TLS handshakes completed
  std::uint64_t tls_resumptions = 0;    ///< of those, resumed sessions (tickets)
  std::uint64_t cache_hits = 0;         ///< static file cache lookups answered from memory
  std::uint64_t cache_misses = 0;       ///< static file cache lookups that went to the disk
  std::uint64_t moved_out = 0;          ///< live connections moved to another process (a drain)
  std::uint64_t moved_in = 0;           ///< live connections another process moved in (adopted)
  std::uint64_t moves_refused = 0;      ///< moves the other process did not take (those drained)
  /// Bytes of buffer the open connections hold now: output queues, request parsers and held
  /// input, responses in progress, WebSocket message buffers (TLS state and zlib streams are
  /// not counted). Idle connections free theirs, so this follows the busy ones.
  std::uint64_t connection_bytes = 0;
  memory_counters memory;        ///< accounted connection memory by kind, and the cap's counters
  error_counters errors;         ///< connections that ended in an error, by kind
  topic_counters topics;         ///< publish/subscribe on this loop
  server_histograms histograms;  ///< durations and sizes on this loop
};

}  // namespace ns
