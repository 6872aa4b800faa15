// SPDX-License-Identifier: MIT
// Counters (network_server::stats). Everything here runs on the loop thread and only adds to
// plain integers: no atomics, no allocation on the hot path. Error counters are kept by
// close_path.cpp's report_error from the error's type (conn_error.hpp).
#include "server/clock.hpp"
#include "server/core.hpp"

namespace ns {

server_stats network_server::impl::stats() const noexcept {
  server_stats s = stats_;
  s.connections_open = stats_.connections_total - closed_connections_;
  const file_cache_stats cache = cache_stats();
  s.cache_hits = cache.hits;
  s.cache_misses = cache.misses;
  s.topics = topics_.counters();
  // Summed when asked (a status request), not kept on the hot path.
  s.memory.accounted = {};
  conns_.for_each([&](client_num_t, const transport& t) { account(t, s.memory.accounted); });
  const memory_by_kind& m = s.memory.accounted;
  s.connection_bytes = m.input + m.output + m.websocket;
  s.memory.over_cap = cap_.over();
  s.memory.limit = config_.max_memory;
  return s;
}

file_cache_stats network_server::impl::cache_stats() const noexcept {
  const http::file_cache_stats s = files_->stats();
  return {s.hits, s.misses, s.evictions, s.invalidations, s.bytes, s.entries};
}

void network_server::impl::note_handshake(const transport& t) noexcept {
  ++stats_.tls_handshakes;
  if (t.accepted_ns != 0) {
    stats_.histograms.tls_handshake_seconds.observe(server::steady_ns() - t.accepted_ns);
  }
  if (t.tls && t.tls->resumed()) ++stats_.tls_resumptions;
}

void network_server::impl::note_closed(const transport& t) noexcept {
  if (t.counted) ++closed_connections_;
}

}  // namespace ns
