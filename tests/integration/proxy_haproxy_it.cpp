// SPDX-License-Identifier: MIT
// The real HAProxy (Debian's haproxy) in TCP mode in front of the server, with `send-proxy`
// (v1) and `send-proxy-v2` (v2, with CRC32C and unique-id TLVs): curl talks TLS through it and
// the server sees curl, not HAProxy. curl binds 127.0.0.2 so its address differs from
// HAProxy's (127.0.0.1) in every line. HAProxy runs from its own config file on a loopback
// socket handed over by this process and is stopped by pid, also when a check fails
// (child_process kills it).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <network_server/network_server.hpp>

#include "support/process.hpp"
#include "support/tls_client.hpp"
#include "tls/self_signed.hpp"

namespace ns::test {
namespace {

constexpr const char* haproxy_bin = "/usr/sbin/haproxy";
constexpr const char* curl_bin = "/usr/bin/curl";

struct haproxy {
  std::unique_ptr<child_process> process;
  std::uint16_t port = 0;  ///< its frontend on 127.0.0.1
};

// HAProxy in TCP mode in front of 127.0.0.1:@p back, announcing each client with
// @p send_proxy ("send-proxy" or "send-proxy-v2 …"). The frontend is a socket this process
// binds and listens on (any free port) and hands over as fd 3 (`bind fd@3`): no free-port race
// with other tests, and connections queue in its backlog until HAProxy accepts them, so no
// probe connection is needed (one would reach the server as a connection without a header).
haproxy start_haproxy(const temp_dir& dir, std::uint16_t back, const std::string& send_proxy) {
  haproxy h;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      ::listen(fd, 64) != 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ADD_FAILURE() << "frontend socket: " << std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return h;
  }
  h.port = ntohs(a.sin_port);
  const std::string cfg = dir.write("haproxy.cfg",
                                    "global\n"
                                    "  maxconn 100\n"
                                    "defaults\n"
                                    "  mode tcp\n"
                                    "  timeout connect 5s\n"
                                    "  timeout client 30s\n"
                                    "  timeout server 30s\n"
                                    "frontend fe\n"
                                    "  bind fd@3\n"
                                    "  unique-id-format %{+X}o\\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid\n"
                                    "  default_backend be\n"
                                    "backend be\n"
                                    "  server s1 127.0.0.1:" +
                                        std::to_string(back) + " " + send_proxy + "\n");
  h.process = std::make_unique<child_process>(
      std::vector<std::string>{haproxy_bin, "-db", "-f", cfg}, std::nullopt, fd);
  ::close(fd);  // HAProxy holds it now
  return h;
}

struct curl_result {
  std::string code;        // HTTP status
  std::string local_port;  // curl's own source port
};

// GET https://127.0.0.1:@p port/ from 127.0.0.2 (certificate not checked: a test CA-less cert).
curl_result curl_get(std::uint16_t port) {
  child_process c({curl_bin, "-sk", "--max-time", "10", "--interface", "127.0.0.2", "-o",
                   "/dev/null", "-w", "%{http_code} %{local_ip} %{local_port}",
                   "https://127.0.0.1:" + std::to_string(port) + "/"});
  EXPECT_EQ(c.wait(std::chrono::seconds(20)), 0) << c.stderr_text();
  std::istringstream out(c.stdout_text());
  curl_result r;
  std::string ip;
  out >> r.code >> ip >> r.local_port;
  EXPECT_EQ(ip, "127.0.0.2");
  return r;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class HaproxyInFront : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(haproxy_bin) || !std::filesystem::exists(curl_bin)) {
      GTEST_FAIL() << "needs " << haproxy_bin << " and " << curl_bin
                   << " (Debian haproxy, curl: ci/install-deps.sh)";
    }
    cert_ = dir_.path() + "/c.pem";
    key_ = dir_.path() + "/k.pem";
    tls::write_pem_files(tls::make_self_signed(), cert_, key_);
    dir_.write("www/index.html", "<p>behind haproxy</p>\n");
  }
  temp_dir dir_;
  std::string cert_, key_;
};

// ns_serve's access log names curl (127.0.0.2), not HAProxy (127.0.0.1), for v1 and v2.
TEST_F(HaproxyInFront, NsServeAccessLogShowsTheClientHaproxyAnnounced) {
  for (const auto& [mode, send] : {std::pair<std::string, std::string>{"v1", "send-proxy"},
                                   {"v2", "send-proxy-v2 proxy-v2-options crc32c,unique-id"}}) {
    SCOPED_TRACE(mode);
    const std::string log = dir_.path() + "/access-" + mode + ".log";
    served s = start_ns_serve({"--threads", "1", "--root", dir_.path() + "/www", "--cert", cert_,
                               "--key", key_, "--access-log", log, "--proxy-protocol", mode,
                               "--proxy-from", "127.0.0.1", "--status-path", "/_status"});
    ASSERT_NE(s.port, 0) << s.process->stderr_text();
    const haproxy hp = start_haproxy(dir_, s.port, send);
    ASSERT_NE(hp.port, 0);
    EXPECT_EQ(curl_get(hp.port).code, "200") << hp.process->stderr_text();
    std::string text;
    for (int i = 0; i < 300 && text.empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      text = slurp(log);
    }
    EXPECT_EQ(text.rfind("127.0.0.2 - - [", 0), 0u) << text;
    // curl picks h2 (ALPN through HAProxy's TCP passthrough): the log line says HTTP/2.0.
    EXPECT_NE(text.find("\"GET / HTTP/2.0\" 200 "), std::string::npos) << text;
    // Straight to ns_serve (no header) from the trusted address: refused and counted.
    EXPECT_EQ(https_get(s.port, "/").status, 0);
    const http_response st = https_get(hp.port, "/_status");  // through HAProxy again
    EXPECT_NE(st.body.find("\"proxy\": 1"), std::string::npos) << st.body;
    // SIGUSR1: HAProxy's soft stop (exit 0 once its connections are done).
    EXPECT_EQ(hp.process->stop(SIGUSR1, std::chrono::seconds(5)), 0) << hp.process->stderr_text();
    EXPECT_EQ(s.process->stop(SIGTERM, std::chrono::seconds(10)), 0) << s.process->stderr_text();
  }
}

class port_logging_app : public application_methods {
 public:
  void server_started_callback(network_server& s) override { server = &s; }
  void http_read_callback(const http_request&, client_num_t c) override {
    server->http_write(c, std::string_view("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
  }
  void http_response_log_callback(client_num_t, const http_request&,
                                  const http_response_info& info) override {
    std::lock_guard l(m);
    peers.emplace_back(info.peer);
  }
  std::vector<std::string> logged() {
    std::lock_guard l(m);
    return peers;
  }
  network_server* server = nullptr;
  std::mutex m;
  std::vector<std::string> peers;
};

// The response log's peer is curl's own address *and port*, as HAProxy saw them.
TEST_F(HaproxyInFront, ResponseLogPeerIsCurlsAddressAndSourcePort) {
  for (const auto& [mode, send] :
       {std::pair<proxy_protocol_mode, std::string>{proxy_protocol_mode::v1, "send-proxy"},
        {proxy_protocol_mode::v2, "send-proxy-v2"},
        {proxy_protocol_mode::any, "send-proxy-v2 proxy-v2-options crc32c,unique-id"}}) {
    SCOPED_TRACE(send);
    port_logging_app app;
    server_config cfg;
    cfg.port = 0;
    cfg.reuse_port = false;  // nobody else may share the port
    cfg.tls.certificates.push_back({cert_, key_});
    cfg.proxy_protocol.mode = mode;
    cfg.proxy_protocol.trusted = {"127.0.0.1/32"};
    network_server server(cfg, app);
    int rc = -1;
    std::thread loop([&] { rc = server.start(); });
    const haproxy hp = start_haproxy(dir_, server.port(), send);
    ASSERT_NE(hp.port, 0);
    const curl_result r = curl_get(hp.port);
    EXPECT_EQ(r.code, "200");
    for (int i = 0; i < 300 && app.logged().empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(app.logged().size(), 1u);
    EXPECT_EQ(app.logged()[0], "127.0.0.2:" + r.local_port);
    EXPECT_EQ(hp.process->stop(SIGUSR1, std::chrono::seconds(5)), 0) << hp.process->stderr_text();
    server.stop();
    loop.join();
    EXPECT_EQ(rc, 0);
  }
}

}  // namespace
}  // namespace ns::test
