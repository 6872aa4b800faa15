// SPDX-License-Identifier: MIT
// Regressions found by the stress suite (tests/stress, issue 10), as fast GoogleTests.
//
// Stalled readers: a client that sends a request and then never reads the response. While a
// connection is `responding` the server arms no timer (server_loop.cpp set_phase), so such a
// client holds its slot, its socket and (for a streamed file) the file's descriptor and
// buffers for ever; max-connections of them lock every other client out ("slow read" DoS).
// The idle timeout must also bound a response that makes no progress.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/process.hpp"
#include "support/tls_client.hpp"
#include "tls/self_signed.hpp"

namespace ns::test {
namespace {

// ns_serve with --idle-timeout 2 serving a 16 MiB file (streamed, too big for the cache).
struct stalled_fixture {
  temp_dir dir;
  served s;

  stalled_fixture() {
    dir.write("www/index.html", "hello");
    dir.write("www/big.bin", std::string(16u << 20, 'b'));
    tls::write_pem_files(tls::make_self_signed(), dir.path() + "/c.pem", dir.path() + "/k.pem");
    s = start_ns_serve({"--root", dir.path() + "/www", "--cert", dir.path() + "/c.pem", "--key",
                        dir.path() + "/k.pem", "--threads", "1", "--idle-timeout", "2",
                        "--log-level", "error"});
  }

  // Descriptors the server holds beyond @p baseline, after waiting up to @p limit for them to go.
  int held_after(int baseline, std::chrono::seconds limit) {
    return wait_fd_count_at_most(s.process->pid(), baseline, limit) - baseline;
  }
};

void shrink_receive_buffer(const tls_client& c) {
  const int size = 4096;
  setsockopt(c.fd(), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

// Sends @p request on @p n connections and never reads; returns the clients (kept open).
std::vector<std::unique_ptr<tls_client>> stall(std::uint16_t port, const std::string& request,
                                               int n) {
  std::vector<std::unique_ptr<tls_client>> clients;
  for (int i = 0; i < n; ++i) {
    auto c = std::make_unique<tls_client>();
    if (!c->connect(port)) ADD_FAILURE() << c->error();
    shrink_receive_buffer(*c);
    EXPECT_TRUE(c->write(request));
    clients.push_back(std::move(c));
  }
  return clients;
}

TEST(StalledReader, StreamedFileNeverReadIsCutOffByTheIdleTimeout) {
  stalled_fixture f;
  ASSERT_NE(f.s.port, 0) << f.s.process->stderr_text();
  ASSERT_EQ(https_get(f.s.port, "/index.html").status, 200);
  const int baseline = settled_fd_count(f.s.process->pid());
  auto clients = stall(f.s.port, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n", 5);
  // Idle timeout 2 s: after 8 s none of the five (nor their file descriptors) may be held.
  EXPECT_EQ(f.held_after(baseline, std::chrono::seconds(8)), 0);
  clients.clear();
  EXPECT_EQ(f.s.process->stop(SIGTERM, std::chrono::seconds(10)), 0);
}

TEST(StalledReader, PipelinedResponsesNeverReadAreCutOffByTheIdleTimeout) {
  stalled_fixture f;
  ASSERT_NE(f.s.port, 0) << f.s.process->stderr_text();
  f.dir.write("www/mid.bin", std::string(200u * 1024, 'm'));
  ASSERT_EQ(https_get(f.s.port, "/mid.bin").status, 200);
  const int baseline = settled_fd_count(f.s.process->pid());
  std::string pipeline;
  for (int i = 0; i < 200; ++i) pipeline += "GET /mid.bin HTTP/1.1\r\nHost: x\r\n\r\n";
  auto clients = stall(f.s.port, pipeline, 5);
  EXPECT_EQ(f.held_after(baseline, std::chrono::seconds(8)), 0);
  clients.clear();
  EXPECT_EQ(f.s.process->stop(SIGTERM, std::chrono::seconds(10)), 0);
}

}  // namespace
}  // namespace ns::test
