// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Configuration of a `network_server`: listener, TLS, limits and timeouts.
/// Every limit has a sane default; exceeding one yields the protocol's error and a clean close.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ns {

/// Bounds applied by the HTTP/1.1 parser.
struct http_limits {
  std::size_t max_request_line = 8 * 1024;        ///< method + target + version; larger → 414
  std::size_t max_header_bytes = 16 * 1024;       ///< all header fields together; larger → 431
  std::size_t max_header_count = 100;             ///< number of header fields; more → 431
  std::size_t max_body_bytes = 16 * 1024 * 1024;  ///< whole request body; larger → 413
  std::size_t max_buffered_body = 64 * 1024;  ///< bodies up to this arrive whole in the callback
};

/// Bounds applied by the WebSocket codec.
struct ws_limits {
  std::size_t max_frame_bytes = 16 * 1024 * 1024 + 64;  ///< one frame's payload; larger → 1009
  std::size_t max_message_bytes =
      16 * 1024 * 1024 + 64;  ///< assembled (and inflated) message → 1009
};

/// One certificate chain and its private key, both PEM files.
struct tls_certificate {
  std::string cert_file;  ///< leaf first, then intermediates
  std::string key_file;
};

/// TLS settings of a listener.
struct tls_config {
  /// The first pair is the default; the others are chosen by SNI (names from each certificate).
  std::vector<tls_certificate> certificates;
  std::chrono::seconds ticket_key_rotation{3600};  ///< how often session-ticket keys rotate
  /// After a TLS 1.3 handshake, carry the connection's records in the server's own record
  /// layer and free OpenSSL's per-connection state: one AEAD call per record on the server's
  /// buffers (measured: 64-byte WebSocket echo and 1 KiB HTTPS responses ≈ 10 % less CPU,
  /// 10 MiB downloads ≈ 10 % less, idle connections ≈ 12 KB smaller). It needs the traffic
  /// secrets, which OpenSSL 3.0 hands out only through its key log, formatted as hex: a new
  /// connection costs ≈ 6 % more. A server whose clients make one request per connection may
  /// turn it off.
  bool own_record_layer = true;
  /// ALPN offers HTTP/2 ("h2", preferred over "http/1.1"): a client that lists it gets an
  /// HTTP/2 connection (RFC 9113 §3.2), each stream answered through the same callbacks as an
  /// HTTP/1.1 request. On a plaintext listener, a connection that opens with the HTTP/2 preface
  /// (prior knowledge, h2c: RFC 9113 §3.3) gets HTTP/2 too. Off: every client gets HTTP/1.1
  /// (ns_serve --no-h2). On, max_connections may not exceed 2^20 (stream handles).
  bool http2 = true;
};

/// Static files served by `network_server::http_send_file` (see there).
struct static_files_config {
  /// Directory `http_send_file(client, request)` serves (request target resolved beneath it,
  /// never outside). Empty: only the `file_source::filesystem` form of http_send_file works.
  /// Opened at setup: a missing directory makes the server constructor throw.
  std::string document_root;
  /// Bound of the per-server LRU file cache (file bytes + metadata). 0 disables the cache.
  std::size_t cache_bytes = 64 * 1024 * 1024;
  /// Files up to this size are kept in memory by the cache (headers precomputed); larger
  /// files have only their metadata cached and are streamed from disk.
  std::size_t cache_max_file_bytes = 256 * 1024;
  /// How long a cached file is served without checking the file system again (like nginx's
  /// open_file_cache_valid): within this time after a stat confirmed the entry, a request for
  /// the same path costs no open/stat/close. A file changed, removed or replaced by a symlink
  /// leaving the root is therefore noticed up to this late. Afterwards the next request opens
  /// the file again beneath the root (same confinement as a miss) and re-stats it. Applies to
  /// files whose bytes are cached (up to cache_max_file_bytes); larger files are opened for
  /// every response anyway. 0: check on every request.
  std::chrono::milliseconds cache_valid{1'000};
  /// A file whose content is the body of every 404 answer of http_send_file (Content-Type from
  /// its extension); read once at setup (the constructor throws if it cannot be read). Empty:
  /// a short built-in HTML page.
  std::string not_found_page;
  /// Size of one io_uring read of a streamed file (the per-transfer read buffer) at the start
  /// of a transfer, and for as long as the client does not keep up.
  std::size_t read_chunk_bytes = 64 * 1024;
  /// A transfer whose client has taken every queued byte by the time the next read is due
  /// switches to reads of this size: a fast reader costs fewer loop iterations, reads and sends
  /// per byte (measured: a 10 MiB response on loopback costs 43 % less CPU with 1 MiB reads
  /// than with 64 KiB; 2 MiB and more cost more again, out of the cache). 0 or a value not
  /// above read_chunk_bytes: never switch.
  std::size_t large_read_chunk_bytes = 1024 * 1024;
  /// Bytes of large read buffers one event loop may hold at once (its transfers beyond that
  /// keep read_chunk_bytes), so many fast downloads do not each pin large_read_chunk_bytes.
  std::size_t large_read_budget_bytes = 16 * 1024 * 1024;
  /// The next chunk is read only once the connection's queued output is below this, so a
  /// transfer holds at most read_chunk_bytes + ~(send_low_water + read_chunk_bytes) of
  /// ciphertext, whatever the file size and however slowly the client reads.
  std::size_t send_low_water = 32 * 1024;
};

/// How outgoing WebSocket messages are compressed when a client offers permessage-deflate
/// (RFC 7692). Incoming compressed messages are always accepted when the extension is agreed.
enum class ws_deflate_mode : std::uint8_t {
  off,  ///< never agree to permessage-deflate
  /// One compressor per server (thread) serves every connection: the server always answers
  /// `server_no_context_takeover` (RFC 7692 §7.1.1.1), so no connection keeps compressor state.
  /// Broadcasts are compressed once for all receivers. The default: memory per connection.
  shared,
  /// A compressor per connection with context takeover (better ratio on similar messages, but
  /// zlib state of a few hundred KiB per connection that has sent a compressed message).
  dedicated,
};

/// WebSocket behaviour of a server (RFC 6455, RFC 7692). Frame and message size bounds are in
/// `server_config::ws` (`ws_limits`).
struct websocket_config {
  ws_deflate_mode deflate = ws_deflate_mode::shared;  ///< permessage-deflate policy
  int deflate_level = 1;               ///< zlib level of outgoing messages (1 = fastest)
  std::size_t deflate_threshold = 64;  ///< shorter outgoing messages are not compressed
  /// Accepted `Origin` values (scheme://host[:port], compared case-insensitively). Empty: any
  /// origin and requests without Origin. Non-empty: others are refused with 403 (RFC 6455 §10.2).
  std::vector<std::string> allowed_origins;
  /// After this long without receiving anything the server sends a ping (0: never ping).
  std::chrono::milliseconds ping_interval{30'000};
  /// A connection that received nothing for this long (after the ping, if any) is closed with
  /// 1001 "idle timeout". Must be > 0.
  std::chrono::milliseconds idle_timeout{60'000};
  /// After our close frame, how long to wait for the peer's before closing TLS/TCP anyway.
  std::chrono::milliseconds close_timeout{5'000};
  /// `websocket_drain_callback` fires when a connection whose queued output went above this
  /// (or which refused a write or skipped a broadcast) has drained to this or less.
  std::size_t drain_threshold = 64 * 1024;
  /// A broadcast receiver whose queued output would exceed `max_queued_output` is skipped
  /// (counted in `broadcast_result::slow`); with this true it is also closed with 1008.
  bool close_slow_receivers = false;
};

/// Which PROXY protocol header (HAProxy's doc/proxy-protocol.txt) a listener expects in front
/// of every connection: `send-proxy` sends v1, `send-proxy-v2` sends v2.
enum class proxy_protocol_mode : std::uint8_t {
  off,  ///< no header: the peer is the client (the default)
  v1,   ///< the text line "PROXY TCP4|TCP6|UNKNOWN …\r\n"
  v2,   ///< the binary header
  any,  ///< either, told apart by the first byte
};

/// A listener behind a TCP load balancer that announces each client with a PROXY header. The
/// header is read before the TLS ClientHello (or the first plaintext byte); its client address
/// becomes the connection's peer (`http_response_info::peer`, log lines). A connection from an
/// address outside `trusted` is closed at accept; a malformed or truncated header, or none
/// within `server_config::handshake_timeout`, closes it too. Each counts in
/// `error_counters::proxy`. A header that names no client (v2 LOCAL: the proxy's health
/// check; v1 UNKNOWN) leaves the connection's own address.
struct proxy_protocol_config {
  proxy_protocol_mode mode = proxy_protocol_mode::off;
  /// The proxies' networks, "10.0.0.0/8", "fd00::/8" or single addresses ("127.0.0.1"). Must
  /// not be empty when mode is not off; checked by the server constructor (it throws, naming
  /// the entry, on one that is not an IPv4/IPv6 network or has bits set after its prefix).
  std::vector<std::string> trusted;
};

/// Everything a `network_server` needs to run.
struct server_config {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 8443;
  bool plaintext = false;  ///< serve without TLS: only behind a TLS-terminating proxy, or in tests
  bool reuse_port = true;  ///< SO_REUSEPORT, so several servers (threads) share one port
  /// A listening TCP socket to accept on instead of binding `bind_address`:`port` (systemd
  /// socket activation, a hand-over from the process being upgraded); -1: bind. The server
  /// accepts on a duplicate (`dup`) of it: the caller still owns, and closes, its own. The
  /// constructor throws if it is not a listening stream socket. Several servers may be given
  /// the same socket: the kernel hands each connection to one of them.
  int listen_fd = -1;
  tls_config tls;
  proxy_protocol_config proxy_protocol;  ///< a PROXY header before each connection (off)

  unsigned max_connections = 10000;   ///< further connections are refused until a slot frees
  unsigned ring_entries = 2048;       ///< submission queue size of the io_uring
  unsigned recv_buffer_count = 1024;  ///< buffers in the provided buffer ring (power of two)
  unsigned recv_buffer_size = 16 * 1024;
  std::size_t max_queued_output = 8 * 1024 * 1024;  ///< per connection; beyond it writes fail

  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds header_timeout{10'000};
  /// A keep-alive connection with no request for this long is closed. It also bounds how long
  /// output may wait on a peer that takes no bytes (a response, or WebSocket messages): the
  /// connection is closed when nothing was sent for this long while something waited.
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds shutdown_deadline{5'000};

  /// How often the process checks whether to give freed heap memory back to the kernel (glibc
  /// `malloc_trim`): it does when the resident set or the free heap has grown by
  /// `memory_trim_threshold` bytes since the last trim and the heap holds free memory — after a
  /// burst of connections, RSS falls back to what the live ones use instead of staying at the peak;
  /// a growing or idle server trims at most once per threshold of growth. Process-wide (one loop
  /// trims for all). 0 disables.
  std::chrono::milliseconds memory_trim_interval{10'000};
  std::size_t memory_trim_threshold = 16 * 1024 * 1024;

  /// Cap on the memory connections hold (TLS state, parsers, output queues, WebSocket messages,
  /// zlib streams: `server_stats::memory`), for the whole process: every loop with a cap adds
  /// its connections' bytes to one sum. Above the cap the loops close new connections at accept
  /// (`memory.refused`), then, until the sum is below 80 % of the cap, connections still in
  /// their handshake, idle keep-alive connections, and the connections with the most memory
  /// among those with output waiting (`memory.shed_connections`; a WebSocket reports 1013);
  /// below 80 % they accept again. Counted every
  /// 100 ms and whenever output queues grew by 1/16 of the cap since: the sum may pass the cap
  /// by what connections add in between. Counted too: each loop's pool of output buffers
  /// (dropped first over the cap). Not counted: the receive buffer ring (recv_buffer_count x
  /// recv_buffer_size per loop), the file cache and read pools (their own bounds). With a cap,
  /// glibc's mmap threshold is fixed at 256 KiB for the process (large buffers are given back
  /// to the kernel when freed, so RSS follows the count). 0: no cap.
  std::size_t max_memory = 0;

  http_limits http;
  ws_limits ws;
  websocket_config websocket;  ///< upgrade, permessage-deflate, pings, timeouts
  static_files_config files;   ///< http_send_file: document root, file cache, 404 page
};

}  // namespace ns
