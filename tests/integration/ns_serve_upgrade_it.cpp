// SPDX-License-Identifier: MIT
// ns_serve's listeners across process lifetimes (issue 20 §1): started by the real
// systemd-socket-activate (Debian's systemd) it accepts on the socket it was given and binds
// none of its own.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/process.hpp"
#include "support/tls_client.hpp"
#include "tls/self_signed.hpp"

namespace ns::test {
namespace {

// ctest may not pass NS_BINARY_DIR through; this executable lives in BINARY_DIR/tests/integration/.
[[maybe_unused]] const bool binary_dir_known = [] {
  if (std::getenv("NS_BINARY_DIR") == nullptr) {
    const auto exe = std::filesystem::read_symlink("/proc/self/exe");
    ::setenv("NS_BINARY_DIR", exe.parent_path().parent_path().parent_path().c_str(), 0);
  }
  return true;
}();

std::string socket_activate_bin() {
  for (const char* p :
       {"/usr/bin/systemd-socket-activate", "/lib/systemd/systemd-socket-activate"}) {
    if (std::filesystem::exists(p)) return p;
  }
  return {};
}

// Inodes of the TCP sockets listening on 127.0.0.1:port (state 0A in /proc/net/tcp).
std::set<std::string> listening_inodes(std::uint16_t port) {
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // header
  std::set<std::string> out;
  char want[16];
  std::snprintf(want, sizeof(want), "0100007F:%04X", port);
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string slot, local, remote, state, queues, timer, retr, uid, timeout, inode;
    f >> slot >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> inode;
    if (local == want && state == "0A") out.insert(inode);
  }
  return out;
}

// Inodes of the sockets process @p pid holds.
std::set<std::string> socket_inodes(pid_t pid) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    const std::string target = std::filesystem::read_symlink(e.path(), ec).string();
    if (target.rfind("socket:[", 0) == 0) out.insert(target.substr(8, target.size() - 9));
  }
  return out;
}

class NsServeLifecycle : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = dir_.path() + "/server.crt";
    key_ = dir_.path() + "/server.key";
    tls::write_pem_files(tls::make_self_signed(), cert_, key_);
    root_ = dir_.path() + "/www";
    dir_.write("www/index.html", "<!doctype html><title>lifecycle</title>\n");
  }
  std::vector<std::string> serve_args(std::uint16_t port, std::vector<std::string> extra) const {
    std::vector<std::string> a{binary_path("src/bin/ns_serve"),
                               "--bind",
                               "127.0.0.1",
                               "--port",
                               std::to_string(port),
                               "--root",
                               root_,
                               "--cert",
                               cert_,
                               "--key",
                               key_};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  temp_dir dir_;
  std::string cert_, key_, root_;
};

// systemd-socket-activate binds and listens, then execs ns_serve (same pid) at the first
// connection with LISTEN_FDS=1: that first connection waits in the backlog and is served.
TEST_F(NsServeLifecycle, SocketActivationServesOnTheInheritedSocket) {
  const std::string activate = socket_activate_bin();
  if (activate.empty()) GTEST_FAIL() << "needs systemd-socket-activate (Debian systemd)";
  const std::uint16_t port = free_port();
  ASSERT_NE(port, 0);
  std::vector<std::string> argv{activate, "-l", "127.0.0.1:" + std::to_string(port)};
  for (const std::string& a : serve_args(port, {"--threads", "2"})) argv.push_back(a);
  child_process p(argv);
  // Until systemd-socket-activate listens, a connect is refused.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (listening_inodes(port).empty() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const std::set<std::string> before = listening_inodes(port);
  ASSERT_EQ(before.size(), 1u);
  const http_response r = https_get(port, "/index.html");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<!doctype html><title>lifecycle</title>\n");
  const std::string out = p.wait_for_output("on inherited sockets", std::chrono::seconds(10));
  EXPECT_NE(out.find("with 2 thread(s) on inherited sockets"), std::string::npos) << out;
  // Still the one socket systemd-socket-activate made, now held by ns_serve (same pid after
  // exec): ns_serve bound none of its own.
  EXPECT_EQ(listening_inodes(port), before);
  const std::set<std::string> held = socket_inodes(p.pid());
  EXPECT_EQ(held.count(*before.begin()), 1u);
  EXPECT_EQ(std::filesystem::read_symlink("/proc/" + std::to_string(p.pid()) + "/exe"),
            std::filesystem::canonical(binary_path("src/bin/ns_serve")));
  EXPECT_EQ(p.stop(SIGTERM, std::chrono::seconds(10)), 0) << p.stderr_text();
}

// The inherited socket must be the one --bind/--port name: a unit file and the flags that
// disagree are a configuration error, not a server on a port nobody asked for.
TEST_F(NsServeLifecycle, SocketActivationRefusesASocketOnAnotherPort) {
  const std::string activate = socket_activate_bin();
  if (activate.empty()) GTEST_FAIL() << "needs systemd-socket-activate (Debian systemd)";
  const std::uint16_t port = free_port();
  ASSERT_NE(port, 0);
  const std::uint16_t other = port == 65535 ? 1024 : static_cast<std::uint16_t>(port + 1);
  std::vector<std::string> argv{activate, "-l", "127.0.0.1:" + std::to_string(port)};
  for (const std::string& a : serve_args(other, {"--threads", "1"})) argv.push_back(a);
  child_process p(argv);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int fd = -1;
  while (fd < 0 && std::chrono::steady_clock::now() < until) {
    fd = tcp_connect(port);  // the connection that makes it exec ns_serve
    if (fd < 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GE(fd, 0);
  EXPECT_EQ(p.wait(std::chrono::seconds(10)), 2);
  ::close(fd);
  EXPECT_NE(
      p.stderr_text().find("inherited descriptor 3 listens on 127.0.0.1:" + std::to_string(port) +
                           ", not on --bind 127.0.0.1 --port " + std::to_string(other)),
      std::string::npos)
      << p.stderr_text();
}

}  // namespace
}  // namespace ns::test
