// SPDX-License-Identifier: MIT
// Memory of idle connections. Most connections of a busy server are idle (keep-alive between
// requests, WebSockets between messages), so what an idle connection holds decides how many fit
// in memory. A busy connection keeps its buffers — the TLS ciphertext buffers, the parser's
// reserved storage, the output queue, the last WebSocket message — so requests do not allocate;
// once it has stayed idle for idle_release_delay_ms they are freed and allocated again by the next
// request. The delay keeps connections that are merely between two quick requests out of this
// (malloc/free per request would cost CPU on the busy path).
#include <chrono>
#include <cstdint>
#include <vector>

#include "server/log.hpp"
#include "server/server_impl.hpp"

namespace ns {

namespace {

using conn = server::connection;

constexpr std::uint64_t idle_release_delay_ms = 200;
constexpr std::uint64_t release_period_ms = 100;
// The loop's buffer pools (output queue, large file reads) are freed after a period in which
// nothing took from them: a burst of bulk responses leaves no memory behind for good.
constexpr std::uint64_t pool_release_period_ms = 5'000;

// Nothing in flight that uses the connection's buffers: no partial request or message (the
// phase tells; the protocol objects check their own input), no queued output, no owed response.
bool quiescent(const conn& k) noexcept {
  if (k.kind != server::conn_kind::http || k.closing || k.close_after_flush) return false;
  if (!k.out.empty() || k.send_in_flight || !k.inbuf.empty()) return false;
  if (k.body.active || k.long_response() || (k.file && k.file->read_in_flight)) return false;
  return k.ws ? k.phase == server::conn_phase::websocket : k.phase == server::conn_phase::idle;
}

void release_memory(conn& k) noexcept {
  if (k.tls) k.tls->release_buffers();
  k.parser.release_storage();
  k.out.release();
  std::vector<std::byte>().swap(k.inbuf);
  if (k.file && !k.file->active && !k.file->read_in_flight) k.file.reset();
  if (k.ws) k.ws->proto.release_idle_buffers();
}

}  // namespace

void network_server::impl::note_idle(client_num_t c, conn& k) {
  k.idle_since_ms = now_ms_;
  if (k.idle_listed) return;
  k.idle_listed = true;
  to_trim_.push_back(c);
}

void network_server::impl::release_idle_pools() {
  if (now_ms_ < next_pool_release_ms_) return;
  next_pool_release_ms_ = now_ms_ + pool_release_period_ms;
  const std::size_t freed =
      server::output_queue::release_unused_pool() + files_->release_unused_large_pool();
  if (freed > 0) NS_LOG(log_level::debug, "freed ", freed >> 10, " KiB of unused buffer pools");
}

void network_server::impl::release_idle() {
  if (to_trim_.empty() || now_ms_ < next_trim_ms_) return;
  next_trim_ms_ = now_ms_ + release_period_ms;
  std::size_t keep = 0;
  for (const client_num_t c : to_trim_) {
    conn* k = conns_.find(c);
    if (k == nullptr) continue;  // closed since (a reused slot has another generation)
    if (!quiescent(*k)) {
      k->idle_listed = false;  // busy again: listed anew when it next goes idle
      continue;
    }
    if (now_ms_ - k->idle_since_ms < idle_release_delay_ms) {
      to_trim_[keep++] = c;
      continue;
    }
    k->idle_listed = false;
    release_memory(*k);
  }
  to_trim_.resize(keep);
}

}  // namespace ns
