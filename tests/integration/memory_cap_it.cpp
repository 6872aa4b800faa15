// SPDX-License-Identifier: MIT
// Memory accounting by kind (server_stats::memory, largest_connections) and the memory cap
// (server_config::max_memory) through real TLS/WebSocket connections at small scale: known
// workloads show up in the kind they belong to, and over the cap the server refuses new
// connections, closes idle keep-alive ones, sheds the largest slow reader (1013), and accepts
// again once under the low-water mark.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/eventually.hpp"
#include "support/tls_client.hpp"
#include "ws_support.hpp"

namespace ns::test {
namespace {

using namespace std::chrono_literals;

template <class F>
auto on_loop(ws_server& s, F f) -> decltype(f(*s.app().server)) {
  std::promise<decltype(f(*s.app().server))> p;
  auto done = p.get_future();
  EXPECT_EQ(s.app().server->post([&] { p.set_value(f(*s.app().server)); }), 0);
  return done.get();
}

server_stats stats_of(ws_server& s) {
  return on_loop(s, [](network_server& n) { return n.stats(); });
}


// A peer that reads nothing: a 4 KiB receive buffer, so what the server sends stays in its
// queue (on loopback the kernel would otherwise take megabytes into the socket buffers).
void stop_reading(ws_client& c) {
  const int small = 4096;
  setsockopt(c.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
}

// True if the server closed @p fd (EOF or reset) within 5 s; what it sent before is skipped.
bool closed_by_peer(int fd) {
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
    if (n < 0) return false;  // timeout: still open
  }
}

TEST(MemoryAccounting, DeflateStreamsAreCountedAsZlib) {
  ws_server s([](server_config& cfg) { cfg.websocket.deflate = ws_deflate_mode::dedicated; });
  ws_client c;
  ws_client::options o;
  o.deflate = true;
  ASSERT_TRUE(c.connect(s.port(), o)) << c.error();
  ASSERT_TRUE(c.deflate_agreed());
  EXPECT_EQ(stats_of(s).memory.accounted.zlib, 0u);  // streams are made on first use
  const std::string text = make_payload(8000, true);
  ASSERT_TRUE(c.send_text(text));
  auto echo = c.next_message();
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->data, text);
  // Inflate (32 KiB window) and a dedicated deflate stream (window + hash: 256 KiB).
  const server_stats st = stats_of(s);
  EXPECT_GE(st.memory.accounted.zlib, 32u * 1024 + 256u * 1024);
  EXPECT_GT(st.memory.accounted.tls, 0u);
  const auto top = on_loop(s, [](network_server& n) { return n.largest_connections(10); });
  ASSERT_EQ(top.size(), 1u);
  EXPECT_STREQ(top[0].kind, "ws");
  EXPECT_EQ(top[0].bytes.zlib, st.memory.accounted.zlib);
  EXPECT_EQ(top[0].peer.rfind("127.0.0.1:", 0), 0u) << top[0].peer;
}

TEST(MemoryAccounting, StalledReaderIsCountedAsTheOutputItQueued) {
  // Beyond what the kernel's socket buffers take on loopback (a few MiB), so that most of it
  // waits in the server's queue.
  constexpr std::size_t bound = 16 * 1024 * 1024;
  ws_server s([](server_config& cfg) {
    cfg.max_queued_output = bound;
    cfg.websocket.deflate = ws_deflate_mode::off;
  });
  ws_client reader;
  ASSERT_TRUE(reader.connect(s.port())) << reader.error();
  stop_reading(reader);
  ws_client idle;
  ASSERT_TRUE(idle.connect(s.port())) << idle.error();
  ASSERT_TRUE(s.app().wait([](ws_record& r) { return r.opened.size() == 2; }));
  const client_num_t handle = s.app().rec.opened[0];
  ASSERT_TRUE(reader.send_text("flood"));  // 1 MiB messages until the queue is full; never read
  ASSERT_TRUE(s.app().wait([](ws_record& r) { return r.enobufs == 1; }));
  std::this_thread::sleep_for(200ms);  // the kernel takes what it will
  const auto [st, queued] = on_loop(s, [handle](network_server& n) {
    return std::pair(n.stats(), static_cast<std::uint64_t>(n.queued_bytes(handle)));
  });
  ASSERT_GT(queued, 4u * 1024 * 1024) << "the reader was not stalled";
  // Queued bytes live in the queue's buffers: at least that much, at most the two buffers'
  // geometric growth over it.
  EXPECT_GE(st.memory.accounted.output, queued);
  EXPECT_LE(st.memory.accounted.output, 3 * queued);
  const auto top = on_loop(s, [](network_server& n) { return n.largest_connections(1); });
  ASSERT_EQ(top.size(), 1u);
  EXPECT_GE(top[0].bytes.output, queued);  // the reader, not the idle one
  EXPECT_EQ(st.connection_bytes,
            st.memory.accounted.input + st.memory.accounted.output + st.memory.accounted.websocket);
}

// Over the cap with nothing to shed (a large message being received is not a slow reader): new
// connections are closed at accept until the memory is gone, then served again.
TEST(MemoryCap, RefusesWhileOverAndAcceptsAgainBelowTheLowWaterMark) {
  ws_server s([](server_config& cfg) {
    cfg.max_memory = 4 * 1024 * 1024;
    cfg.websocket.deflate = ws_deflate_mode::off;
  });
  ws_client big;
  ASSERT_TRUE(big.connect(s.port())) << big.error();
  // A 6 MiB binary frame, all but its last byte: the message buffer holds it while it lasts.
  const std::size_t n = 6 * 1024 * 1024;
  std::string head = {'\x82', '\x7f'};  // FIN + binary, 64-bit length, unmasked bit set below
  head[1] = static_cast<char>(0xFF);    // masked, 127: 8-byte length follows
  for (int i = 7; i >= 0; --i) head += static_cast<char>((n >> (8 * i)) & 0xFF);
  head += std::string(4, '\0');  // mask key 0: payload as is
  ASSERT_TRUE(big.send_raw(head + std::string(n - 1, 'b')));
  ASSERT_TRUE(eventually([&] { return stats_of(s).memory.over_cap; }, 10s));

  tls_client refused;
  EXPECT_FALSE(refused.connect(s.port()));  // closed at accept
  ASSERT_TRUE(eventually([&] { return stats_of(s).memory.refused >= 1; }, 10s));
  EXPECT_TRUE(stats_of(s).memory.over_cap);
  EXPECT_EQ(stats_of(s).memory.shed_connections, 0u);  // nothing it could shed

  ASSERT_TRUE(big.send_raw("b"));  // the message completes, is echoed and let go
  ASSERT_TRUE(eventually([&] { return !stats_of(s).memory.over_cap; }, 10s));
  tls_client fresh;
  ASSERT_TRUE(fresh.connect(s.port())) << fresh.error();
  ASSERT_TRUE(fresh.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(fresh.read_response().status, 200);
}

// Over the cap: the idle keep-alive connection and the slow reader go (the application hears
// 1013); a WebSocket with nothing queued stays, and new connections are served again.
TEST(MemoryCap, ShedsIdleKeepAliveAndTheSlowReader) {
  ws_server s([](server_config& cfg) {
    cfg.max_memory = 3 * 1024 * 1024;
    cfg.max_queued_output = 4 * 1024 * 1024;
    cfg.websocket.deflate = ws_deflate_mode::off;
  });
  tls_client keepalive;
  ASSERT_TRUE(keepalive.connect(s.port())) << keepalive.error();
  ASSERT_TRUE(keepalive.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(keepalive.read_response().status, 200);
  ws_client quiet;
  ASSERT_TRUE(quiet.connect(s.port())) << quiet.error();
  ws_client reader;
  ASSERT_TRUE(reader.connect(s.port())) << reader.error();
  stop_reading(reader);
  EXPECT_EQ(stats_of(s).memory.shed_connections, 0u);
  ASSERT_TRUE(reader.send_text("flood"));  // 4 MiB queued to a peer that never reads

  ASSERT_TRUE(eventually([&] { return stats_of(s).memory.shed_connections >= 2; }, 10s));
  EXPECT_TRUE(reader.wait_eof());
  EXPECT_TRUE(s.app().wait([](ws_record& r) {
    for (const auto& [c, code] : r.ws_closed)
      if (code == 1013) return true;
    return false;
  }));
  EXPECT_TRUE(closed_by_peer(keepalive.fd()));
  ASSERT_TRUE(eventually([&] { return !stats_of(s).memory.over_cap; }, 10s));
  const server_stats st = stats_of(s);
  EXPECT_EQ(st.memory.shed_connections, 2u);
  EXPECT_LE(st.memory.accounted.total(), 3u * 1024 * 1024 / 100 * 80);
  // The quiet one is still served, and so is a new client.
  ASSERT_TRUE(quiet.send_text("still here"));
  auto echoed = quiet.next_message();
  ASSERT_TRUE(echoed);
  EXPECT_EQ(echoed->data, "still here");
  tls_client fresh;
  ASSERT_TRUE(fresh.connect(s.port())) << fresh.error();
  ASSERT_TRUE(fresh.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(fresh.read_response().status, 200);
}

}  // namespace
}  // namespace ns::test
