// SPDX-License-Identifier: MIT
// Memory accounting and the memory cap (server_config::max_memory; memory_cap.hpp).
//
// What a connection holds is summed from its transport and handler (account()) when asked: by
// a status request, and, with a cap, every 100 ms and whenever the loop's output queues grew
// by a sixteenth of the cap since the last count (output is what a flood of slow readers
// fills fastest; output_queue::peek_growth() is one thread-local read per completion).
// Over the cap, the loop sheds in the order that costs its clients least, until the process is
// below the low-water mark:
//   1. new connections are closed at accept (not answered 503: a 503 over TLS would first
//      cost a handshake, ~44 KiB of OpenSSL state per connection, exactly what is short), and
//      so are connections still in their handshake (nothing served yet);
//   2. idle keep-alive connections (between requests: the client just reconnects, and is
//      refused while over — they would otherwise bring new work in by the back door);
//   3. the connections with the most memory among those with output waiting (slow readers:
//      stalled WebSocket subscribers, cut-short downloads), largest first. A hard close: a
//      close frame would queue behind the very data the peer does not read; the application
//      hears WebSocket 1013.
// The loop's pool of output buffers counts as its memory and is dropped first.
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "server/core.hpp"
#include "server/log.hpp"

namespace ns {

namespace {

constexpr std::uint64_t count_period_ms = 100;

// Who goes first over the cap: connections not served yet (still in their TLS handshake,
// ~44 KiB of OpenSSL state each: like the ones refused at accept), idle keep-alive connections
// (the client just reconnects), then slow readers, largest first.
enum class shed_order : std::uint8_t { handshake, idle, slow_reader };

struct candidate {
  shed_order order;
  std::uint64_t bytes;
  client_num_t handle;
};

}  // namespace

server::memory_budget::memory_budget(std::size_t cap) noexcept
    : cap_(cap), low_(cap / 100 * low_water_percent) {
#ifdef __GLIBC__
  // With a cap, RSS should follow the accounted bytes. A fixed mmap threshold makes every large
  // buffer (>= 256 KiB: slow readers' output queues, big WebSocket messages) a mapping of its
  // own, given back to the kernel when freed. glibc's default threshold rises after such a free
  // (up to 32 MiB), and the heap then keeps the pages of a shed flood: the stress scenario
  // memcap measured peak RSS at start + 161 MiB with glibc's default, + 117 MiB with this
  // (same build, cap 64 MiB, 2 loops).
  if (cap != 0) mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
}

void network_server::impl::account(const transport& t, memory_by_kind& m) noexcept {
  t.account(m);
  t.handler->account(m);
}

void network_server::impl::watch_memory() {
  if (!cap_.enabled()) return;
  // Between counts only output growth is seen: a count is due when the queues grew by a
  // sixteenth of the cap, or when the period is up.
  if (now_ms_ < next_memory_count_ms_ && server::output_queue::peek_growth() < cap_.cap() / 16) {
    return;
  }
  enforce_memory_cap();
}

void network_server::impl::enforce_memory_cap() {
  next_memory_count_ms_ = now_ms_ + count_period_ms;
  server::output_queue::take_growth();
  // The loop's pool of output buffers is memory of this loop's too, though no connection's.
  std::uint64_t mine = server::output_queue::pooled_bytes();
  conns_.for_each([&](client_num_t, const transport& t) {
    // A transport closing hard frees its buffers as soon as its cancelled operations have
    // completed (within a loop iteration): counting it again would shed twice for it.
    if (t.closing) return;
    memory_by_kind m;
    account(t, m);
    mine += m.total();
  });
  std::uint64_t sum = cap_.publish(mine);
  if (cap_.judge(sum)) {
    NS_LOG(log_level::warn, "memory cap: connections hold ", sum >> 10, " KiB of ",
           cap_.cap() >> 10, " KiB; ", cap_.over() ? "shedding" : "accepting again");
  }
  if (!cap_.over()) return;
  // Buffers kept for reuse go first. (Shed connections' queues may go to the pool on their
  // way out; the next count drops them too.)
  mine -= std::min<std::uint64_t>(mine, server::output_queue::drop_pool());
  sum = cap_.publish(mine);
  // Over the cap (rare): a second walk picks whom to shed, so a count under it builds nothing.
  std::vector<candidate> candidates;
  conns_.for_each([&](client_num_t c, const transport& t) {
    if (t.closing || !t.counted || !t.open()) return;
    memory_by_kind m;
    account(t, m);
    if (!t.ready) {
      candidates.push_back({shed_order::handshake, m.total(), c});
    } else if (t.handler->expendable() && t.out.empty()) {
      candidates.push_back({shed_order::idle, m.total(), c});
    } else if (!t.out.empty()) {
      candidates.push_back({shed_order::slow_reader, m.total(), c});
    }
  });
  std::sort(candidates.begin(), candidates.end(), [](const candidate& a, const candidate& b) {
    return a.order != b.order ? a.order < b.order : a.bytes > b.bytes;
  });
  for (const candidate& k : candidates) {
    if (sum <= cap_.low()) break;
    transport* t = conns_.find(k.handle);
    if (t == nullptr || t->closing) continue;
    NS_LOG(log_level::info, "memory cap: closing ", t->peer_name(), " (", k.bytes >> 10, " KiB)");
    t->handler->on_shed();
    ++stats_.memory.shed_connections;
    close_hard(*t);
    mine -= std::min(mine, k.bytes);
    sum = cap_.publish(mine);
  }
  if (!to_finalize_.empty()) finalize_closed();
  if (cap_.judge(sum)) {
    NS_LOG(log_level::warn, "memory cap: back under the low-water mark; accepting again");
  }
}

bool network_server::impl::refuse_over_cap(int fd) {
  if (!cap_.over()) return false;
  ++stats_.memory.refused;
  close(fd);
  return true;
}

std::vector<connection_memory> network_server::impl::largest_connections(std::size_t n) {
  std::vector<connection_memory> all;
  conns_.for_each([&](client_num_t c, transport& t) {
    if (!t.counted) return;
    connection_memory e;
    e.client = c;
    e.kind = server::kind_name(t.handler->kind());
    account(t, e.bytes);
    all.push_back(std::move(e));
  });
  const std::size_t keep = std::min(n, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(keep), all.end(),
                    [](const connection_memory& a, const connection_memory& b) {
                      return a.bytes.total() > b.bytes.total();
                    });
  all.resize(keep);
  for (connection_memory& e : all) e.peer = std::string(conns_.find(e.client)->peer_name());
  return all;
}

}  // namespace ns
