// SPDX-License-Identifier: MIT
// One context and one ticket key ring shared by several threads (one per event loop in the
// server), with key rotation and a reload happening concurrently.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "pump.hpp"
#include "test_certs.hpp"
#include "tls/context_holder.hpp"

using namespace ns::tls;
using namespace ns::tls::test;

TEST(TlsConcurrency, SharedContextAcrossThreads) {
  auto keys = std::make_shared<ticket_keys>(std::chrono::seconds{1});
  context_holder holder(context::server_from_pem({pki().chain.leaf}, keys));
  std::atomic<int> ok{0};
  std::atomic<int> resumed{0};
  std::atomic<bool> stop{false};
  std::thread rotator([&] {
    auto t = std::chrono::steady_clock::time_point{};
    while (!stop.load()) {
      t += std::chrono::seconds{1};
      holder.get()->rotate_ticket_keys(t);
      holder.set(context::server_from_pem({pki().chain.leaf}, keys));
      std::this_thread::sleep_for(std::chrono::milliseconds{2});
    }
  });
  std::vector<std::thread> workers;
  constexpr int threads = 4;
  constexpr int per_thread = 20;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      // One client context per thread: clients are separate processes in reality, and
      // OpenSSL's lazily cached X509 data in a shared client trust store is not what we test.
      auto cctx = client_ctx();
      saved_session last;
      for (int i = 0; i < per_thread; ++i) {
        session server(holder.get());
        session client(cctx, {"localhost", {}, last});
        mem_pipe p{client, server};
        if (!p.pump()) continue;
        p.send(client, "ping");
        if (p.server_received == "ping") ++ok;
        if (server.resumed()) ++resumed;
        last = client.saved();
      }
    });
  }
  for (auto& w : workers) w.join();
  stop = true;
  rotator.join();
  EXPECT_EQ(ok.load(), threads * per_thread);
  EXPECT_GT(resumed.load(), 0);  // tickets issued on one context resume on its successors
}

TEST(TlsSplit, ClientHelloSplitAtEveryOffset) {
  session probe(client_ctx(), {"localhost", {"http/1.1"}, nullptr});
  probe.handshake();
  const auto hello_view = probe.peek_ciphertext();
  const std::vector<std::byte> hello(hello_view.begin(), hello_view.end());
  ASSERT_GT(hello.size(), 100U);
  for (std::size_t cut = 0; cut <= hello.size(); ++cut) {
    session server(server_ctx());
    std::string sink;
    server.feed(std::span(hello).first(cut));
    const status first = read_all(server, sink);
    EXPECT_EQ(first, status::want_more) << cut;
    if (cut < hello.size()) {
      EXPECT_EQ(server.pending_ciphertext(), 0U) << cut;  // nothing until the hello is whole
    }
    server.feed(std::span(hello).subspan(cut));
    EXPECT_EQ(read_all(server, sink), status::want_more) << cut;
    EXPECT_GT(server.pending_ciphertext(), 0U) << cut;  // ServerHello … Finished
    EXPECT_TRUE(server.last_error().empty()) << cut;
  }
}
