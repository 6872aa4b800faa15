// SPDX-License-Identifier: MIT
// Independent WebSocket clients against the server over TLS: Python's `websockets` and node's
// `ws` (tests/integration/ws_clients/), with and without permessage-deflate: echo of text and
// binary messages from 0 B to 16 MiB, fragmented sends, ping/pong, close, a 100-client
// broadcast. Also ns_serve's /ws/echo and /ws/chat, and the server memory per connection for
// each deflate mode. The Python tests skip when python3's websockets is missing; the node
// tests fail when node or its ws package (ci/install-deps.sh) is.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "integration/ws_support.hpp"

namespace ns::test {
namespace {

struct run_result {
  int status = -1;
  std::string out;
};

// Runs @p cmd with a shell, stdout and stderr captured; @p on_line sees each line as it comes.
run_result run(const std::string& cmd,
               const std::function<void(const std::string&)>& on_line = {}) {
  run_result r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char line[4096];
  while (std::fgets(line, sizeof(line), p) != nullptr) {
    r.out += line;
    if (on_line) on_line(line);
  }
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// A python3 that can import websockets (Debian's python3-websockets lives in /usr/bin/python3's
// path; a pyenv or venv python3 first in PATH may not see it), or "".
const std::string& python() {
  static const std::string py = [] {
    for (const char* cand : {"/usr/bin/python3", "python3"}) {
      if (run(std::string(cand) + " -c 'import websockets' >/dev/null").status == 0) {
        return std::string(cand);
      }
    }
    return std::string();
  }();
  return py;
}

std::string script(const char* name) {
  return source_path(std::string("tests/integration/ws_clients/") + name);
}

// Why the node client cannot run, or "" when it can: node itself, or npm's `ws`, which
// ci/install-deps.sh installs beside ws_client.js (npm ci from the committed package-lock.json;
// node finds it there from the script's own folder).
const std::string& node_missing() {
  static const std::string why = [] {
    if (run("node --version >/dev/null").status != 0) return std::string("node is not installed");
    const std::string ws = script("node_modules/ws/package.json");
    if (!std::filesystem::exists(ws)) return ws + " is missing: run ci/install-deps.sh";
    return std::string();
  }();
  return why;
}

std::string python_cmd(const std::string& args) {
  return "timeout 600 " + python() + " " + script("ws_client.py") + " " + args;
}

std::string node_cmd(const std::string& args) {
  return "timeout 600 node " + script("ws_client.js") + " " + args;
}

#define NEED_PYTHON() \
  if (python().empty()) GTEST_SKIP() << "python3 with the websockets package is not installed"
// The node client is installed with the test's dependencies: missing, the test fails.
#define NEED_NODE() ASSERT_TRUE(node_missing().empty()) << node_missing()

class WsClients : public ::testing::TestWithParam<bool> {};  // param: permessage-deflate

TEST_P(WsClients, PythonWebsocketsEcho) {
  NEED_PYTHON();
  ws_server s;
  const std::string comp = GetParam() ? "on" : "off";
  const run_result r =
      run(python_cmd("echo " + std::to_string(s.port()) + " --compression " + comp));
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("OK echo"), std::string::npos) << r.out;
  ASSERT_TRUE(s.app().wait([](ws_record& rec) { return rec.ws_close_calls == 1; }));
  std::lock_guard l(s.app().rec.m);
  EXPECT_EQ(s.app().rec.ws_closed.begin()->second, 1000);
  EXPECT_EQ(s.app().rec.failed_reads, 0);
}

TEST_P(WsClients, NodeWsEcho) {
  NEED_NODE();
  ws_server s;
  const std::string comp = GetParam() ? "on" : "off";
  const run_result r = run(node_cmd("echo " + std::to_string(s.port()) + " --compression " + comp));
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("OK echo"), std::string::npos) << r.out;
  ASSERT_TRUE(s.app().wait([](ws_record& rec) { return rec.ws_close_calls == 1; }));
  std::lock_guard l(s.app().rec.m);
  EXPECT_EQ(s.app().rec.ws_closed.begin()->second, 1000);
}

TEST_P(WsClients, PythonWebsocketsHundredClientBroadcast) {
  NEED_PYTHON();
  ws_server s;
  const std::string comp = GetParam() ? "on" : "off";
  const run_result r = run(python_cmd("broadcast " + std::to_string(s.port()) +
                                      " --path /chat --clients 100 --compression " + comp));
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("OK broadcast 100"), std::string::npos) << r.out;
}

TEST_P(WsClients, NodeWsHundredClientBroadcast) {
  NEED_NODE();
  ws_server s;
  const std::string comp = GetParam() ? "on" : "off";
  const run_result r = run(node_cmd("broadcast " + std::to_string(s.port()) +
                                    " --path /chat --clients 100 --compression " + comp));
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("OK broadcast 100"), std::string::npos) << r.out;
}

INSTANTIATE_TEST_SUITE_P(Deflate, WsClients, ::testing::Values(false, true),
                         [](const auto& i) { return i.param ? "deflate" : "plain"; });

TEST(WsNsServe, EchoAndChatEndpoints) {
  NEED_PYTHON();
  temp_dir root;
  root.write("index.html", "hi\n");
  served s = start_ns_serve({"--root", root.path(), "--threads", "1", "--log-level", "warn"});
  if (s.port == 0 && s.process) {
    const int st = s.process->wait(std::chrono::milliseconds(2000));
    FAIL() << "ns_serve did not start (exit " << st << "): " << s.process->stdout_text()
           << s.process->stderr_text();
  }
  ASSERT_NE(s.port, 0);
  const std::string port = std::to_string(s.port);
  for (const char* comp : {"off", "on"}) {
    const run_result e = run(python_cmd("echo " + port + " --path /ws/echo --compression " + comp));
    EXPECT_EQ(e.status, 0) << e.out;
    const run_result b = run(
        python_cmd("broadcast " + port + " --path /ws/chat --clients 20 --compression " + comp));
    EXPECT_EQ(b.status, 0) << b.out;
  }
  ws_client c;  // another path is not a WebSocket endpoint
  ws_client::options o;
  o.path = "/ws/other";
  ASSERT_TRUE(c.connect(s.port, o)) << c.error();
  EXPECT_EQ(c.status(), 404);
}

// Server memory per idle WebSocket connection that has exchanged one compressed message, for
// each deflate mode (and with deflate off): resident set growth of a fresh process running only the
// server (the clients run in a Python process) divided by the number of connections. Each mode runs
// in its own child process (this executable, filtered to WsMemoryProbe.Serve) so that heap reuse
// from an earlier run does not hide growth. Printed for the record; the test checks that the shared
// mode needs less than the dedicated one. NS_WS_MEM_CLIENTS overrides the count (default 1000).
// Under ASan the absolute numbers include its redzones (quarantine is disabled for the probe).
class WsMemoryProbe : public ::testing::Test {
 public:
  explicit WsMemoryProbe(std::string mode) : mode_(std::move(mode)) {}
  void TestBody() override;

 private:
  std::string mode_;
};

void WsMemoryProbe::TestBody() {
  ASSERT_FALSE(python().empty()) << "python3 with the websockets package is not installed";
  const char* env = std::getenv("NS_WS_MEM_CLIENTS");
  const int n = env != nullptr ? std::atoi(env) : 1000;
  ws_server s([&](server_config& cfg) {
    cfg.websocket.deflate = mode_ == "dedicated" ? ws_deflate_mode::dedicated
                            : mode_ == "off"     ? ws_deflate_mode::off
                                                 : ws_deflate_mode::shared;
    cfg.max_connections = static_cast<unsigned>(n + 64);
  });
  temp_dir dir;
  const auto hold = [&](int clients, const std::string& flag, long* rss_at_hold) {
    return run(python_cmd("hold " + std::to_string(s.port()) + " --compression on --clients " +
                          std::to_string(clients) + " --until " + flag),
               [&](const std::string& line) {
                 if (line.rfind("HELD", 0) == 0) {
                   if (rss_at_hold != nullptr) *rss_at_hold = rss_kib(getpid());
                   std::ofstream(flag) << "x";
                 }
               });
  };
  // Warm-up: one-time allocations (shared compressor, TLS and allocator caches) are not
  // per-connection costs.
  const run_result warm = hold(32, dir.path() + "/warm", nullptr);
  ASSERT_EQ(warm.status, 0) << warm.out;
  const long before = rss_kib(getpid());
  long during = 0;
  const run_result r = hold(n, dir.path() + "/release", &during);
  ASSERT_EQ(r.status, 0) << r.out;
  ASSERT_GT(during, 0) << r.out;
  std::printf("PROBE_RESULT %ld\n", (during - before) * 1024 / n);
}

// The probe exists only in the child the parent starts (NS_WS_MEM_PROBE=mode): ordinary runs
// neither list it nor report it as skipped.
[[maybe_unused]] const bool probe_registered = [] {
  const char* mode = std::getenv("NS_WS_MEM_PROBE");
  if (mode == nullptr) return false;
  ::testing::RegisterTest(
      "WsMemoryProbe", "Serve", nullptr, nullptr, __FILE__, __LINE__,
      [m = std::string(mode)]() -> ::testing::Test* { return new WsMemoryProbe(m); });
  return true;
}();

TEST(WsMemory, BytesPerConnectionByDeflateMode) {
  NEED_PYTHON();
  char self[4096];
  const ssize_t len = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  ASSERT_GT(len, 0);
  self[len] = '\0';
  const char* asan = std::getenv("ASAN_OPTIONS");
  long per_conn[3] = {0, 0, 0};
  const char* modes[3] = {"shared", "dedicated", "off"};  // off: the client's offer is declined
  for (int m = 0; m < 3; ++m) {
    const run_result r =
        run(std::string("NS_WS_MEM_PROBE=") + modes[m] + " ASAN_OPTIONS='" +
            (asan != nullptr ? std::string(asan) + ":" : std::string()) +
            "quarantine_size_mb=0' '" + self + "' --gtest_filter=WsMemoryProbe.Serve");
    ASSERT_EQ(r.status, 0) << r.out;
    const std::size_t at = r.out.find("PROBE_RESULT ");
    ASSERT_NE(at, std::string::npos) << r.out;
    per_conn[m] = std::atol(r.out.c_str() + at + 13);
    std::printf("[ memory   ] deflate %s: %ld bytes of server RSS per idle WSS connection\n",
                modes[m], per_conn[m]);
    RecordProperty(std::string("bytes_per_connection_") + modes[m], std::to_string(per_conn[m]));
  }
  EXPECT_LT(per_conn[0], per_conn[1]) << "the shared compressor should save memory";
}

}  // namespace
}  // namespace ns::test
