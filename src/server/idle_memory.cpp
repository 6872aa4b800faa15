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

#include "server/core.hpp"
#include "server/log.hpp"

namespace ns {

namespace {

constexpr std::uint64_t idle_release_delay_ms = 200;
constexpr std::uint64_t release_period_ms = 100;
// The loop's buffer pools (output queue, large file reads) are freed after a period in which
// nothing took from them: a burst of bulk responses leaves no memory behind for good.
constexpr std::uint64_t pool_release_period_ms = 5'000;

// Nothing in flight that uses the transport's buffers, and the handler at a safe point.
bool quiescent(const server::transport& t) noexcept {
  if (!t.counted || !t.ready || !t.open()) return false;
  if (!t.out.empty() || t.send_in_flight) return false;
  return t.handler->quiescent();
}

void release_memory(server::transport& t) noexcept {
  if (t.tls) t.tls->release_buffers();
  t.out.release();
  t.handler->release_memory();
}

}  // namespace

void network_server::impl::note_idle(transport& t) {
  t.idle_since_ms = now_ms_;
  if (t.idle_listed) return;
  t.idle_listed = true;
  to_trim_.push_back(t.handle);
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
    transport* t = conns_.find(c);
    if (t == nullptr) continue;  // closed since (a reused slot has another generation)
    if (!quiescent(*t)) {
      t->idle_listed = false;  // busy again: listed anew when it next goes idle
      continue;
    }
    if (now_ms_ - t->idle_since_ms < idle_release_delay_ms) {
      to_trim_[keep++] = c;
      continue;
    }
    t->idle_listed = false;
    release_memory(*t);
  }
  to_trim_.resize(keep);
}

}  // namespace ns
