// SPDX-License-Identifier: MIT
// TLS as an operator sees it, checked with `openssl s_client`, curl and our OpenSSL client:
// versions, ALPN, SNI, resumption, certificate reload on SIGHUP, close_notify, hostile bytes.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <thread>

#include "support/process.hpp"
#include "support/tls_client.hpp"
#include "tls/self_signed.hpp"

namespace ns::test {
namespace {

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

class Tls : public ::testing::Test {
 protected:
  void SetUp() override {
    tls::cert_options def;
    def.common_name = "default.test";
    tls::write_pem_files(tls::make_self_signed(def), cert_path("default"), key_path("default"));
    tls::cert_options other;
    other.common_name = "other.test";
    other.include_localhost = false;
    other.dns_names = {"other.test"};
    tls::write_pem_files(tls::make_self_signed(other), cert_path("other"), key_path("other"));
    dir_.write("www/index.html", "tls ok");
    start();
  }
  void start() {
    server_ = start_ns_serve({"--root", dir_.path() + "/www", "--cert", cert_path("default"),
                              "--key", key_path("default"), "--sni",
                              "other.test:" + cert_path("other") + ":" + key_path("other"),
                              "--threads", "2", "--log-level", "info",
                              // A stalled or truncated hello is cut off after a second.
                              "--handshake-timeout", "1"});
    ASSERT_NE(server_.port, 0) << server_.process->stderr_text();
  }
  void TearDown() override {
    if (server_.process) {
      EXPECT_EQ(server_.process->stop(SIGTERM, std::chrono::seconds(10)), 0);
    }
  }
  std::string cert_path(const std::string& n) const { return dir_.path() + "/" + n + ".crt"; }
  std::string key_path(const std::string& n) const { return dir_.path() + "/" + n + ".key"; }
  std::string s_client(const std::string& args) const {
    return run("echo | timeout 10 openssl s_client -connect 127.0.0.1:" +
               std::to_string(server_.port) + " " + args);
  }
  // Makes a request and reads until the server closes: a TLS 1.3 session ticket arrives after
  // the handshake, so a client that hangs up at once may never see it (no -sess_out file).
  std::string s_client_request(const std::string& args) const {
    return run(
        "printf 'GET / HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n' | "
        "timeout 10 openssl s_client -ign_eof -connect 127.0.0.1:" +
        std::to_string(server_.port) + " " + args);
  }

  temp_dir dir_;
  served server_;
};

TEST_F(Tls, Tls13AndTls12AcceptedTls11Refused) {
  EXPECT_NE(s_client("-tls1_3").find("TLSv1.3"), std::string::npos);
  const std::string t12 = s_client("-tls1_2");
  EXPECT_NE(t12.find("TLSv1.2"), std::string::npos) << t12;
  EXPECT_NE(t12.find("GCM"), std::string::npos) << t12;  // AEAD only
  const std::string t11 = s_client("-tls1_1 -cipher DEFAULT:@SECLEVEL=0");
  EXPECT_EQ(t11.find("Cipher is ECDHE"), std::string::npos) << t11;
  EXPECT_NE(t11.find("alert"), std::string::npos) << t11;
}

TEST_F(Tls, CbcOnlyTls12ClientIsRefused) {
  const std::string out = s_client("-tls1_2 -cipher ECDHE-ECDSA-AES128-SHA256");
  EXPECT_NE(out.find("alert"), std::string::npos) << out;
}

TEST_F(Tls, AlpnPrefersH2AndOtherwiseHttp11) {
  // The server's preference decides (RFC 7301 §3.2): h2 wherever the client lists it.
  const std::string out = s_client("-alpn http/1.1,h2");
  EXPECT_NE(out.find("ALPN protocol: h2"), std::string::npos) << out;
  const std::string h11 = s_client("-alpn http/1.1");
  EXPECT_NE(h11.find("ALPN protocol: http/1.1"), std::string::npos) << h11;
  const std::string none = s_client("");
  EXPECT_NE(none.find("No ALPN negotiated"), std::string::npos) << none;
}

TEST_F(Tls, ServerNameChoosesTheCertificate) {
  EXPECT_NE(s_client("-servername other.test").find("CN = other.test"), std::string::npos);
  EXPECT_NE(s_client("-servername unknown.test").find("CN = default.test"), std::string::npos);
  EXPECT_NE(s_client("-noservername").find("CN = default.test"), std::string::npos);
}

TEST_F(Tls, SessionsResumeAcrossConnections) {
  for (const char* v : {"-tls1_3", "-tls1_2"}) {
    const std::string sess = dir_.path() + "/sess" + v;
    const std::string first = s_client_request(std::string(v) + " -sess_out " + sess);
    EXPECT_NE(first.find("New, TLSv1."), std::string::npos) << first;
    // --threads 2: the resumption may land on the other loop; tickets are shared.
    for (int i = 0; i < 4; ++i) {
      const std::string again = s_client_request(std::string(v) + " -sess_in " + sess);
      EXPECT_NE(again.find("Reused, TLSv1."), std::string::npos) << v << "\n" << again;
    }
  }
}

TEST_F(Tls, CurlOverBothVersions) {
  for (const char* v : {"--tlsv1.3", "--tlsv1.2 --tls-max 1.2"}) {
    const std::string out = run(std::string("curl -s --insecure --max-time 10 ") + v +
                                " https://127.0.0.1:" + std::to_string(server_.port) + "/");
    EXPECT_EQ(out, "tls ok") << v;
  }
}

TEST_F(Tls, ConnectionCloseEndsWithCloseNotify) {
  tls_client c;
  ASSERT_TRUE(c.connect(server_.port)) << c.error();
  ASSERT_TRUE(c.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(c.read_response().body, "tls ok");
  char buf[64];
  const int n = SSL_read(c.ssl(), buf, sizeof(buf));
  EXPECT_EQ(n, 0);
  EXPECT_EQ(SSL_get_error(c.ssl(), n), SSL_ERROR_ZERO_RETURN);  // close_notify, not a bare FIN
}

TEST_F(Tls, ClientCloseNotifyEndsTheConnectionCleanly) {
  tls_client c;
  ASSERT_TRUE(c.connect(server_.port)) << c.error();
  ASSERT_TRUE(c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.read_response().status, 200);
  EXPECT_EQ(SSL_shutdown(c.ssl()), 0);  // our close_notify sent, theirs not yet received
  char buf[64];
  const int n = SSL_read(c.ssl(), buf, sizeof(buf));
  EXPECT_EQ(SSL_get_error(c.ssl(), n), SSL_ERROR_ZERO_RETURN);  // server answered in kind
}

TEST_F(Tls, HostileHandshakesAreClosedAndLeaveNoFd) {
  ASSERT_EQ(https_get(server_.port, "/").status, 200);
  const int before = settled_fd_count(server_.process->pid());
  const std::vector<std::string> inputs = {
      std::string("\x16\x03\x01\x00\x30\x01\x00\x00\x2c\x03\x01", 11),  // truncated hello
      std::string("\x16\x03\x00\x00\x2d\x01\x00\x00\x29\x03\x00", 11) +
          std::string(41, 'A'),  // SSLv3
      std::string(300, '\xff'),  // random-ish bytes
      std::string("\x80\x2e\x01\x00\x02\x00\x15\x00\x00\x00\x10", 11) +
          std::string(37, 'B'),  // SSLv2
  };
  for (int round = 0; round < 10; ++round) {
    for (const auto& in : inputs) {
      const int fd = tcp_connect(server_.port);
      ASSERT_GE(fd, 0);
      ASSERT_EQ(::write(fd, in.data(), in.size()), static_cast<ssize_t>(in.size()));
      if (round % 2 == 0) {
        timeval tv{3, 0};  // the handshake timeout (1 s) plus slack
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        char buf[256];
        ssize_t n = 0;
        while ((n = ::read(fd, buf, sizeof(buf))) > 0) {
        }
        EXPECT_TRUE(n == 0 || errno == ECONNRESET) << "connection not closed promptly";
      }
      ::close(fd);
    }
  }
  // The baseline may still hold the warm-up connection (closed asynchronously on another loop):
  // a leak shows as more descriptors than the baseline, never fewer.
  const int after = wait_fd_count_at_most(server_.process->pid(), before, std::chrono::seconds(3));
  EXPECT_GE(after, 0);
  EXPECT_LE(after, before);
  EXPECT_EQ(https_get(server_.port, "/").status, 200);
}

TEST_F(Tls, SighupReloadsCertificatesForNewConnectionsOnly) {
  tls_client established;
  ASSERT_TRUE(established.connect(server_.port)) << established.error();
  ASSERT_TRUE(established.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_EQ(established.read_response().status, 200);

  tls::cert_options renewed;
  renewed.common_name = "renewed.test";
  tls::write_pem_files(tls::make_self_signed(renewed), cert_path("default"), key_path("default"));
  ASSERT_EQ(kill(server_.process->pid(), SIGHUP), 0);
  std::string seen;
  for (int i = 0; i < 100 && seen.find("CN = renewed.test") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    seen = s_client("-servername localhost");
  }
  EXPECT_NE(seen.find("CN = renewed.test"), std::string::npos) << seen;
  // The connection made before the reload keeps working.
  ASSERT_TRUE(established.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(established.read_response().body, "tls ok");

  // A broken file is reported and the certificate in service stays.
  { std::ofstream(cert_path("default")) << "not a certificate"; }
  ASSERT_EQ(kill(server_.process->pid(), SIGHUP), 0);
  std::string err;
  for (int i = 0; i < 100 && err.find("reload failed") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    err = server_.process->stderr_text();
  }
  EXPECT_NE(err.find("reload failed"), std::string::npos) << err;
  EXPECT_NE(s_client("-servername localhost").find("CN = renewed.test"), std::string::npos);
}

}  // namespace
}  // namespace ns::test
