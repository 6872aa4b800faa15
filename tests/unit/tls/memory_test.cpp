// SPDX-License-Identifier: MIT
// Heap cost of an idle server session after its handshake (what 10k idle connections cost).
#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdio>
#include <vector>

#include "pump.hpp"
#include "test_certs.hpp"

using namespace ns::tls;
using namespace ns::tls::test;

TEST(TlsMemory, ReleaseBuffersEmptiesSession) {
  session server(server_ctx());
  session client(client_ctx(), {"localhost", {}, nullptr});
  mem_pipe p{client, server};
  ASSERT_TRUE(p.pump());
  server.release_buffers();
  EXPECT_EQ(server.pending_ciphertext(), 0U);
  p.send(client, "works after release");
  EXPECT_EQ(p.server_received, "works after release");
}

TEST(TlsMemory, IdleSessionBytes) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "mallinfo2 does not see the sanitizer's allocator; run in a non-sanitized build";
#else
  constexpr int n = 1000;
  auto sctx = server_ctx();
  auto cctx = client_ctx();
  std::vector<session> servers;
  servers.reserve(n);
  {  // warm-up: one-time allocations (BIO method, error strings, ciphers) are not per session
    session s(sctx);
    session c(cctx, {"localhost", {}, nullptr});
    mem_pipe p{c, s};
    ASSERT_TRUE(p.pump());
  }
  const std::size_t before = mallinfo2().uordblks;
  for (int i = 0; i < n; ++i) {
    servers.emplace_back(sctx);
    session c(cctx, {"localhost", {}, nullptr});
    mem_pipe p{c, servers.back()};
    ASSERT_TRUE(p.pump());
    servers.back().release_buffers();
  }
  const std::size_t after = mallinfo2().uordblks;
  const std::size_t per = (after - before) / n;
  std::printf("[ TlsMemory ] idle server session after TLS 1.3 handshake: %zu bytes\n", per);
  RecordProperty("bytes_per_idle_session", static_cast<int>(per));
  EXPECT_LT(per, 64U * 1024U);
#endif
}
