// SPDX-License-Identifier: MIT
// ns_serve's listeners across process lifetimes (issue 20 §1): started by the real
// systemd-socket-activate (Debian's systemd) it accepts on the socket it was given and binds
// none of its own; on SIGUSR2 it hands its listening sockets to a new ns_serve without a
// refused connection, or keeps serving when the new one fails; the old one drains.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <future>

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
#include "support/site_fixture.hpp"
#include "support/successor.hpp"
#include "support/tls_client.hpp"
#include "tls/self_signed.hpp"
#include "ws_support.hpp"

namespace ns::test {
namespace {

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

class NsServeLifecycle : public ns_serve_site {
 protected:
  void SetUp() override { make_site("<!doctype html><title>lifecycle</title>\n"); }
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

[[maybe_unused]] const bool subreaper = become_subreaper();

// Fresh connections, one GET each, back to back until stopped: every one must succeed.
struct client_loop {
  explicit client_loop(std::uint16_t port)
      : thread([this, port] {
          while (!stop.load()) {
            const http_response r = https_get(port, "/index.html");
            (r.status == 200 ? ok : failed).fetch_add(1);
          }
        }) {}
  ~client_loop() { finish(); }
  void finish() {
    stop = true;
    if (thread.joinable()) thread.join();
  }
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::thread thread;
};

// kill -USR2 while a client connects all the time: the new process takes over the very
// listening sockets (no new one is bound), no connection attempt fails, the old one exits 0.
TEST_F(NsServeLifecycle, Usr2HandsTheListenersOverWithoutARefusedConnection) {
  served s = start_ns_serve({"--threads", "2", "--root", root_, "--cert", cert_, "--key", key_});
  ASSERT_NE(s.port, 0);
  const std::set<std::string> sockets = listening_inodes(s.port);
  ASSERT_EQ(sockets.size(), 2u);  // one per thread (SO_REUSEPORT)
  client_loop clients(s.port);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const int before = clients.ok.load();
  ASSERT_EQ(::kill(s.process->pid(), SIGUSR2), 0);
  const std::string err =
      wait_for_stderr(*s.process, "accepts on the listeners now", std::chrono::seconds(20));
  successor_guard next{successor_of(err)};
  ASSERT_GT(next.pid, 0) << s.process->stderr_text();
  EXPECT_EQ(s.process->wait(std::chrono::seconds(20)), 0) << s.process->stderr_text();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  clients.finish();
  EXPECT_EQ(clients.failed.load(), 0);
  EXPECT_GT(before, 0);
  EXPECT_GT(clients.ok.load(), before) << "requests served across the upgrade";
  EXPECT_EQ(listening_inodes(s.port), sockets) << "the same sockets, now the new process's";
  const std::set<std::string> held = socket_inodes(next.pid);
  for (const std::string& inode : sockets) EXPECT_EQ(held.count(inode), 1u) << inode;
  EXPECT_EQ(https_get(s.port, "/index.html").status, 200);
  EXPECT_NE(s.process->stdout_text().find("on inherited sockets"), std::string::npos);
  EXPECT_EQ(next.stop(), 0);
}

// --metrics-listen is a listener of its own, not handed over: the new process binds it again
// while the old one still has it (both with SO_REUSEPORT), and serves the metrics after it.
TEST_F(NsServeLifecycle, Usr2WithAMetricsListenerOfItsOwn) {
  const std::uint16_t mport = free_port();
  ASSERT_NE(mport, 0);
  served s = start_ns_serve({"--root", root_, "--cert", cert_, "--key", key_, "--metrics-listen",
                             "127.0.0.1:" + std::to_string(mport)});
  ASSERT_NE(s.port, 0);
  ASSERT_EQ(::kill(s.process->pid(), SIGUSR2), 0);
  const std::string err =
      wait_for_stderr(*s.process, "accepts on the listeners now", std::chrono::seconds(20));
  successor_guard next{successor_of(err)};
  ASSERT_GT(next.pid, 0) << s.process->stderr_text();
  EXPECT_EQ(s.process->wait(std::chrono::seconds(20)), 0) << s.process->stderr_text();
  const int fd = tcp_connect(mport);
  EXPECT_GE(fd, 0) << "the new process listens on the metrics port";
  if (fd >= 0) ::close(fd);
  EXPECT_EQ(https_get(s.port, "/index.html").status, 200);
  EXPECT_EQ(next.stop(), 0);
}

// What the old process logs when the upgrade fails, after which it still serves.
void expect_still_serving(served& s, const std::string& why) {
  ASSERT_EQ(::kill(s.process->pid(), SIGUSR2), 0);
  const std::string err =
      wait_for_stderr(*s.process, "upgrade failed, still serving: ", std::chrono::seconds(20));
  const auto at = err.find("upgrade failed, still serving: ");
  ASSERT_NE(at, std::string::npos) << s.process->stderr_text();
  const std::string line = err.substr(at, err.find('\n', at) - at);
  EXPECT_NE(line.find(why), std::string::npos) << line;
  EXPECT_EQ(https_get(s.port, "/index.html").status, 200);
}

TEST_F(NsServeLifecycle, Usr2WithAFailingCheckKeepsServing) {
  served s = start_ns_serve({"--threads", "1", "--root", root_, "--cert", cert_, "--key", key_,
                             "--upgrade-binary", "/bin/false"});
  ASSERT_NE(s.port, 0);
  expect_still_serving(s, "/bin/false --check-config failed (exit 1)");
  EXPECT_EQ(s.process->stop(SIGTERM, std::chrono::seconds(10)), 0);
}

// A new program that passes the check but never confirms, or exits instead: killed (reaped)
// after --upgrade-timeout, or noticed at once; the old one keeps serving either way.
TEST_F(NsServeLifecycle, Usr2WithANewProcessThatHangsOrDiesKeepsServing) {
  const std::string hangs = dir_.write(
      "hangs.sh", "#!/bin/sh\ncase \"$*\" in *--check-config*) exit 0;; esac\nexec sleep 60\n");
  const std::string dies =
      dir_.write("dies.sh", "#!/bin/sh\ncase \"$*\" in *--check-config*) exit 0;; esac\nexit 3\n");
  const std::string slow_check = dir_.write("slow_check.sh", "#!/bin/sh\nexec sleep 60\n");
  for (const std::string& f : {hangs, dies, slow_check}) ASSERT_EQ(::chmod(f.c_str(), 0755), 0);
  {
    served s = start_ns_serve({"--threads", "1", "--root", root_, "--cert", cert_, "--key", key_,
                               "--upgrade-binary", hangs, "--upgrade-timeout", "1"});
    ASSERT_NE(s.port, 0);
    const auto t0 = std::chrono::steady_clock::now();
    expect_still_serving(s, hangs + " (pid ");
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(900));
    const std::string err = s.process->stderr_text();
    EXPECT_NE(err.find(") did not confirm within 1 s"), std::string::npos) << err;
    const pid_t hung = static_cast<pid_t>(std::atoi(err.c_str() + err.find("(pid ") + 5));
    EXPECT_NE(::kill(hung, 0), 0) << "the hung process was killed and reaped";
    EXPECT_EQ(s.process->stop(SIGTERM, std::chrono::seconds(10)), 0);
  }
  {
    served s = start_ns_serve({"--threads", "1", "--root", root_, "--cert", cert_, "--key", key_,
                               "--upgrade-binary", dies});
    ASSERT_NE(s.port, 0);
    expect_still_serving(s, "exited (exit 3) before confirming: the other process closed");
    EXPECT_EQ(s.process->stop(SIGTERM, std::chrono::seconds(10)), 0);
  }
  {
    served s = start_ns_serve({"--threads", "1", "--root", root_, "--cert", cert_, "--key", key_,
                               "--upgrade-binary", slow_check, "--upgrade-timeout", "1"});
    ASSERT_NE(s.port, 0);
    expect_still_serving(s, slow_check + " --check-config did not finish within 1 s");
    EXPECT_EQ(s.process->stop(SIGTERM, std::chrono::seconds(10)), 0);
  }
}

// The hello must come from the process the old one started (the kernel's credentials, not the
// record's word): a program that passes the check and then runs ns_serve as its own child
// (another pid) is refused, and the old process keeps serving.
TEST_F(NsServeLifecycle, Usr2RefusesAHelloFromAnotherProcess) {
  const std::string ns = binary_path("src/bin/ns_serve");
  const std::string forks =
      dir_.write("forks.sh", "#!/bin/sh\ncase \"$*\" in *--check-config*) exec " + ns +
                                 " \"$@\";; esac\n" + ns + " \"$@\" &\nwait\n");
  ASSERT_EQ(::chmod(forks.c_str(), 0755), 0);
  served s = start_ns_serve({"--threads", "1", "--root", root_, "--cert", cert_, "--key", key_,
                             "--upgrade-binary", forks});
  ASSERT_NE(s.port, 0);
  expect_still_serving(s, "the peer is not the process started");
  EXPECT_EQ(s.process->stop(SIGTERM, std::chrono::seconds(10)), 0);
}

// Reads from @p c until the whole response (head + Content-Length body) is in @p got, or at
// least @p at_least bytes when that is smaller; false on EOF or an error first.
bool read_raw(tls_client& c, std::string& got, std::size_t at_least = SIZE_MAX) {
  char buf[64 * 1024];
  for (;;) {
    // The head is near the start: look there only (the body is megabytes).
    const auto head_end = got.substr(0, 4096).find("\r\n\r\n");
    if (head_end != std::string::npos) {
      const auto cl = got.substr(0, head_end).find("Content-Length: ");
      const std::size_t body = cl == std::string::npos ? 0 : std::stoull(got.substr(cl + 16, 20));
      if (got.size() >= head_end + 4 + body) return true;
    }
    if (got.size() >= at_least) return true;
    const int n = SSL_read(c.ssl(), buf, sizeof(buf));
    if (n <= 0) return false;
    got.append(buf, static_cast<std::size_t>(n));
  }
}

// The old process drains what cannot move to the new one (ns_serve_live_move_it.cpp has what
// can): a download in flight completes byte for byte, an idle TLS 1.2 keep-alive connection is
// closed, a TLS 1.2 request in progress is answered with Connection: close, a WebSocket with
// deflate context takeover keeps echoing until --drain-timeout and then gets close 1001; then
// the old process exits 0.
TEST_F(NsServeLifecycle, TheOldProcessDrains) {
  std::string big(24 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<char>((i * 7 + i / 4093) & 0xff);
  dir_.write("www/big.bin", big);
  served s = start_ns_serve(
      {"--threads", "1", "--root", root_, "--cert", cert_, "--key", key_, "--drain-timeout", "2"});
  ASSERT_NE(s.port, 0);
  tls_client download;
  ASSERT_TRUE(download.connect(s.port)) << download.error();
  ASSERT_TRUE(download.write("GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  std::string got;
  ASSERT_TRUE(read_raw(download, got, 1 << 20));  // under way; the rest waits in the server
  tls_client::options v12;  // OpenSSL keeps a TLS 1.2 session's records: it cannot move
  v12.max_version = TLS1_2_VERSION;
  tls_client idle;
  ASSERT_TRUE(idle.connect(s.port, v12)) << idle.error();
  ASSERT_TRUE(idle.write("GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  const http_response first = idle.read_response();
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.headers.at("connection"), "keep-alive");
  tls_client half;
  ASSERT_TRUE(half.connect(s.port, v12)) << half.error();
  ASSERT_TRUE(half.write("GET /index.html HTTP/1.1\r\nHost: localhost\r\n"));
  ws_client ws;
  ws_client::options wo;
  wo.path = "/ws/echo";
  wo.deflate = true;  // the server's inflater keeps the client's window: it cannot move
  ASSERT_TRUE(ws.connect(s.port, wo)) << ws.error();
  ASSERT_EQ(ws.status(), 101);
  ASSERT_TRUE(ws.deflate_agreed());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the half request is read

  ASSERT_EQ(::kill(s.process->pid(), SIGUSR2), 0);
  const std::string err =
      wait_for_stderr(*s.process, "accepts on the listeners now", std::chrono::seconds(20));
  successor_guard next{successor_of(err)};
  ASSERT_GT(next.pid, 0) << s.process->stderr_text();
  const auto drained_at = std::chrono::steady_clock::now();

  EXPECT_TRUE(idle.wait_closed()) << "an idle keep-alive connection is closed at once";
  ASSERT_TRUE(half.write("\r\n"));
  const http_response last = half.read_response();
  EXPECT_EQ(last.status, 200);
  ASSERT_EQ(last.headers.count("connection"), 1u);
  EXPECT_EQ(last.headers.at("connection"), "close");
  EXPECT_TRUE(half.wait_closed());
  ASSERT_TRUE(ws.send_text("still here"));
  const auto echo = ws.next_message();
  ASSERT_TRUE(echo.has_value());
  EXPECT_EQ(echo->data, "still here");
  const auto close = ws.next_message();
  ASSERT_TRUE(close.has_value());
  EXPECT_EQ(close->type, ws::event_type::close);
  EXPECT_EQ(close->code, 1001);
  EXPECT_GE(std::chrono::steady_clock::now() - drained_at, std::chrono::milliseconds(1500));
  ASSERT_TRUE(read_raw(download, got));
  const auto head_end = got.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  EXPECT_EQ(got.compare(0, 15, "HTTP/1.1 200 OK"), 0) << got.substr(0, 200);
  EXPECT_EQ(got.size() - head_end - 4, big.size());
  EXPECT_TRUE(got.compare(head_end + 4, std::string::npos, big) == 0) << "byte-exact";
  download.close();
  EXPECT_EQ(s.process->wait(std::chrono::seconds(20)), 0) << s.process->stderr_text();
  EXPECT_EQ(https_get(s.port, "/index.html").status, 200) << "the new process serves";
  EXPECT_EQ(next.stop(), 0);
}

// ws_test_app that counts the plain requests it answered.
struct counting_app : ws_test_app {
  void http_read_callback(const http_request& r, client_num_t c) override {
    ++requests;
    ws_test_app::http_read_callback(r, c);
  }
  std::atomic<int> requests{0};
};

// The library's side of a hand-over, in one process: a server accepts on a listening socket it
// is given (through a duplicate: the caller's descriptor stays its own), a second server is
// built on the first's listener_fd(), and once the first drains (its start() returns) every
// connection goes to the second while the socket never closes.
TEST(NetworkServerHandover, ASecondServerTakesTheListenerAndTheFirstDrains) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(::listen(fd, 64), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const std::uint16_t port = ntohs(a.sin_port);
  temp_dir dir;
  tls::write_pem_files(tls::make_self_signed(), dir.path() + "/c.pem", dir.path() + "/k.pem");
  server_config cfg;
  cfg.listen_fd = fd;
  cfg.tls.certificates.push_back({dir.path() + "/c.pem", dir.path() + "/k.pem"});
  counting_app first_app;
  std::promise<int> listener;  // read on the loop thread, before anything closes it
  std::promise<int> ended;
  bool accepting_after = true;
  // The server (and its ring) lives on its loop thread only, as in ws_support.cpp.
  std::thread loop([&] {
    try {
      network_server server(cfg, first_app);
      listener.set_value(server.listener_fd());
      const int rc = server.start();
      accepting_after = server.accepting();
      ended.set_value(rc);
    } catch (...) {
      listener.set_exception(std::current_exception());
    }
  });
  const int shared = listener.get_future().get();
  ASSERT_GE(shared, 0);
  ::close(fd);  // the server accepts on its own duplicate
  EXPECT_EQ(https_get(port, "/").body, "plain");
  EXPECT_EQ(first_app.requests.load(), 1);
  counting_app second_app;
  ws_server second([shared](server_config& c) { c.listen_fd = shared; }, &second_app);
  EXPECT_EQ(second.port(), port);
  EXPECT_TRUE(second.server().accepting());
  std::future<int> first_done = ended.get_future();
  first_app.server->drain(std::chrono::milliseconds(0));
  ASSERT_EQ(first_done.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(first_done.get(), 0);
  loop.join();
  EXPECT_FALSE(accepting_after) << "a drained server's accepting() ends";
  // What ns_serve's new process does once the old one stopped accepting: the loop replaces its
  // accept, and goes on accepting.
  second.server().recheck_accept();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(https_get(port, "/").body, "plain") << i;
  EXPECT_EQ(first_app.requests.load(), 1) << "the drained server accepted nothing more";
  EXPECT_EQ(second_app.requests.load(), 20);
  EXPECT_TRUE(second.server().accepting());
}

}  // namespace
}  // namespace ns::test
