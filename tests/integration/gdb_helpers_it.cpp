// SPDX-License-Identifier: MIT
// tools/gdb/ns.gdb against a running ns_serve (docs/debugging.md): gdb attaches in batch mode
// and ns-connections lists each live connection with its protocol, phase, TLS state and queued
// bytes (matched to our clients by their port); ns-loops and the printers agree; the server
// still serves after gdb detached. nsdebug passes SIGPIPE silently, prints the backtrace where
// the program stopped, and runs nothing when the build fails.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "support/process.hpp"
#include "support/tls_client.hpp"
#include "tls/self_signed.hpp"

namespace ns::test {
namespace {

std::string run_capture(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

// Attaching needs ptrace: Yama's scope 3 forbids it to everyone, 1 and 2 to a process without
// CAP_SYS_PTRACE (gdb is not ns_serve's parent). Anything else must work.
std::string ptrace_denied() {
  std::ifstream yama("/proc/sys/kernel/yama/ptrace_scope");
  int scope = 0;
  if (!(yama >> scope) || scope == 0) return {};
  if (scope >= 3) return "kernel.yama.ptrace_scope=3";
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("CapEff:", 0) == 0) {
      const unsigned long long caps = std::stoull(line.substr(7), nullptr, 16);
      if ((caps >> 19) & 1) return {};  // CAP_SYS_PTRACE
    }
  }
  return "kernel.yama.ptrace_scope=" + std::to_string(scope) + " without CAP_SYS_PTRACE";
}

std::uint16_t local_port(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

// Reads a response head (a 101 has no body for read_response to wait for).
std::string read_head(tls_client& c) {
  std::string head;
  char ch = 0;
  while (head.find("\r\n\r\n") == std::string::npos && SSL_read(c.ssl(), &ch, 1) == 1) head += ch;
  return head;
}

struct row {
  std::string protocol, phase, tls, state;
  long queued = -1;
  std::string slot_fd;  ///< "slot fd"
};

// ns-connections' lines by peer port: loop slot handle fd peer protocol phase tls… queued state.
std::map<std::uint16_t, row> parse_connections(const std::string& out) {
  std::map<std::uint16_t, row> rows;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::vector<std::string> w;
    for (std::string tok; ls >> tok;) w.push_back(tok);
    if (w.size() < 10 || w[4].rfind("127.0.0.1:", 0) != 0) continue;
    row r{w[5], w[6], "", w.back(), std::stol(w[w.size() - 2]), w[1] + " " + w[3]};
    for (std::size_t i = 7; i + 2 < w.size(); ++i) r.tls += (r.tls.empty() ? "" : " ") + w[i];
    rows[static_cast<std::uint16_t>(std::stoi(w[4].substr(10)))] = r;
  }
  return rows;
}

std::string gdb_script() {
  return source_path("tools/gdb/ns.gdb");
}

// The same facts read by gdb's own C++ evaluator through libstdc++'s member names, not by
// ns_printers.py's layout reading: "native SLOT FD QUEUED" per live slot (queued as
// output_queue::queued() defines it). C++ syntax: gdb stopped the process in a C frame (libc).
constexpr const char* native_check = R"(set language c++
python
impl = int(gdb.lookup_global_symbol("ns::server::debug_loops").value()["loop"])
for i in range(64):
    v = gdb.parse_and_eval("((ns::network_server::impl*)%d)->conns_.slots_._M_impl._M_start[%d]"
                           ".value" % (impl, i))
    if not bool(v["_M_payload"]["_M_engaged"]):
        continue
    t = v["_M_payload"]["_M_payload"]["_M_value"]
    q = t["out"]
    queued = int(q["sending_size_"]) - int(q["sent_off_"]) + int(q["filling_used_"])
    print("native %d %d %d" % (i, int(t["fd"]), queued))
end
)";

TEST(GdbHelpers, GdbIsInstalled) {
  EXPECT_NE(run_capture("gdb --version").find("GNU gdb"), std::string::npos)
      << "gdb is missing: ci/install-deps.sh installs it";
}

TEST(GdbHelpers, NsConnectionsListsEachConnection) {
  if (const auto why = ptrace_denied(); !why.empty())
    GTEST_SKIP() << "ptrace not permitted: " << why;
  temp_dir dir;
  dir.write("root/index.html", "<h1>hi</h1>\n");
  {  // a large file the stalled reader never takes: its bytes wait in the server's queue
    std::ofstream big(dir.path() + "/root/big.bin");
  }
  std::filesystem::resize_file(dir.path() + "/root/big.bin", 256u << 20);
  const std::string cert = dir.path() + "/c.pem", key = dir.path() + "/k.pem";
  tls::write_pem_files(tls::make_self_signed(), cert, key);
  auto srv = start_ns_serve({"--root", dir.path() + "/root", "--cert", cert, "--key", key,
                             "--threads", "1", "--idle-timeout", "600", "--header-timeout", "600",
                             "--handshake-timeout", "600"});
  ASSERT_NE(srv.port, 0) << srv.process->stderr_text();

  tls_client idle, ws, tls12, partial, stalled;
  ASSERT_TRUE(idle.connect(srv.port));
  ASSERT_TRUE(idle.write("GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_EQ(idle.read_response().status, 200);
  ASSERT_TRUE(ws.connect(srv.port));
  ASSERT_TRUE(
      ws.write("GET /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n"));
  ASSERT_EQ(read_head(ws).rfind("HTTP/1.1 101", 0), 0u);
  tls_client::options v12;
  v12.max_version = TLS1_2_VERSION;
  ASSERT_TRUE(tls12.connect(srv.port, v12));
  ASSERT_TRUE(partial.connect(srv.port));
  ASSERT_TRUE(partial.write("GET / HTTP/1.1\r\nHo"));
  ASSERT_TRUE(stalled.connect(srv.port));
  ASSERT_TRUE(stalled.write("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"));
  const int handshaking = tcp_connect(srv.port);
  ASSERT_GE(handshaking, 0);
  // Let the server take the partial request and fill the stalled reader's socket.
  std::this_thread::sleep_for(std::chrono::seconds(2));

  const std::string out =
      run_capture("timeout 180 gdb -nx -batch -p " + std::to_string(srv.process->pid()) + " -x " +
                  gdb_script() + " -ex ns-loops -ex ns-connections -ex 'p $ns_loop(0).conns_' -x " +
                  dir.write("native.gdb", native_check));
  const auto rows = parse_connections(out);
  struct expect {
    const char* name;
    std::uint16_t port;
    row want;
  };
  const std::vector<expect> expected = {
      {"keep-alive", local_port(idle.fd()), {"http1", "idle", "own TLSv1.3", "open", 0, ""}},
      {"websocket", local_port(ws.fd()), {"websocket", "open", "own TLSv1.3", "open", 0, ""}},
      {"TLS 1.2", local_port(tls12.fd()), {"http1", "idle", "OpenSSL TLSv1.2", "open", 0, ""}},
      {"partial", local_port(partial.fd()), {"http1", "reading", "own TLSv1.3", "open", 0, ""}},
      {"stalled", local_port(stalled.fd()), {"http1", "responding", "own TLSv1.3", "open", 1, ""}},
      {"handshake", local_port(handshaking), {"http1", "idle", "handshaking", "open", 0, ""}},
  };
  for (const auto& e : expected) {
    const auto it = rows.find(e.port);
    ASSERT_NE(it, rows.end()) << e.name << " (port " << e.port << ") not listed:\n" << out;
    const row& r = it->second;
    EXPECT_EQ(r.protocol, e.want.protocol) << e.name;
    EXPECT_EQ(r.phase, e.want.phase) << e.name;
    EXPECT_EQ(r.tls.rfind(e.want.tls, 0), 0u) << e.name << ": " << r.tls;
    EXPECT_EQ(r.state, e.want.state) << e.name;
    if (e.want.queued > 0) {
      EXPECT_GT(r.queued, 0) << e.name;
    } else {
      EXPECT_EQ(r.queued, 0) << e.name;
    }
    const std::string facts = "native " + r.slot_fd + " " + std::to_string(r.queued) + "\n";
    EXPECT_NE(out.find(facts), std::string::npos) << e.name << ": " << facts << out;
  }
  EXPECT_EQ(rows.size(), expected.size()) << out;
  EXPECT_NE(out.find("6 connection(s)"), std::string::npos) << out;
  EXPECT_NE(out.find("listening 127.0.0.1:" + std::to_string(srv.port)), std::string::npos) << out;
  EXPECT_NE(out.find("connections=6/10000"), std::string::npos) << out;
  EXPECT_NE(out.find("slot_map 6 live of 10000"), std::string::npos) << out;
  EXPECT_NE(out.find("transport fd="), std::string::npos) << out;
  EXPECT_NE(out.find("websocket phase=open tls=own TLSv1.3"), std::string::npos) << out;

  // gdb detached and the server goes on (an OpenSSL call made for the TLS 1.2 row included).
  EXPECT_EQ(https_get(srv.port, "/index.html").status, 200);
  ASSERT_TRUE(idle.write("GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(idle.read_response().status, 200);
  ::close(handshaking);
}

std::string nsdebug(const std::string& args, const std::string& after = "") {
  return run_capture("timeout 120 gdb -nx -batch -x " + gdb_script() + " -ex nsdebug " + after +
                     " --args " + args);
}

TEST(GdbHelpers, NsDebugPassesSigpipeAndShowsWhereItStopped) {
  if (const auto why = ptrace_denied(); !why.empty())
    GTEST_SKIP() << "ptrace not permitted: " << why;
  // SIGPIPE (ignored by the program, as ns_serve does) goes through without a stop; SIGSEGV
  // stops, and the backtrace follows. Outside a CMake build tree nothing is built.
  const std::string out = nsdebug("/bin/sh -c 'trap \"\" PIPE; kill -PIPE $$; kill -SEGV $$'",
                                  "-ex 'show environment ASAN_OPTIONS'");
  EXPECT_EQ(out.find("received signal SIGPIPE"), std::string::npos) << out;
  EXPECT_NE(out.find("received signal SIGSEGV"), std::string::npos) << out;
  EXPECT_NE(out.find("\n#0 "), std::string::npos) << out;
  EXPECT_EQ(out.find("cmake --build"), std::string::npos) << out;
  // LeakSanitizer cannot run under ptrace: off, unless the caller chose for it.
  EXPECT_NE(out.find("ASAN_OPTIONS = "), std::string::npos) << out;
  EXPECT_NE(out.find("detect_leaks="), std::string::npos) << out;
}

TEST(GdbHelpers, NsDebugRunsNothingWhenTheBuildFails) {
  temp_dir tree;
  tree.write("CMakeCache.txt", "not a cache\n");
  const std::string prog = tree.path() + "/bin/prog";
  std::filesystem::create_directories(tree.path() + "/bin");
  std::filesystem::copy_file("/bin/true", prog);
  const std::string out = nsdebug(prog);
  EXPECT_NE(out.find("cmake --build " + tree.path() + " --target prog"), std::string::npos) << out;
  EXPECT_NE(out.find("the build failed; not running"), std::string::npos) << out;
  EXPECT_EQ(out.find("[Inferior 1 (process"), std::string::npos) << out;  // never started
}

}  // namespace
}  // namespace ns::test
