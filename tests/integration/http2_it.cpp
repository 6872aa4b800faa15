// SPDX-License-Identifier: MIT
// HTTP/2 over TLS (ALPN h2) end to end: ns_serve's static site through real HTTP/2 clients —
// curl --http2, nghttp and h2load (Debian nghttp2-client) — and --no-h2 falling back to
// HTTP/1.1. The static file semantics (ranges, validators, 404 page, traversal refusal) are
// checked on h2 as they are on HTTP/1.1 (http_files_it.cpp).
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <tuple>

#include "http_it_util.hpp"
#include "support/process.hpp"
#include "tls/self_signed.hpp"

namespace ns::test {
namespace {

// Runs a shell command; stdout and stderr together.
std::string run(const std::string& cmd) {
  return run_command(cmd + " 2>&1");
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::move(ss).str();
}

class Http2Serve : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ensure_binary_dir();
    dir_ = new temp_dir();
    const std::string& d = dir_->path();
    std::tie(small_, big_) = write_file_site(*dir_);
    const std::vector<std::string> common = {
        "--root",          d + "/www",  "--cert", d + "/server.crt", "--key",
        d + "/server.key", "--threads", "1",      "--log-level",     "warn"};
    server_ = new served(start_ns_serve(common));
    std::vector<std::string> no_h2 = common;
    no_h2.push_back("--no-h2");
    server_h1_ = new served(start_ns_serve(no_h2));
    std::vector<std::string> short_idle = common;
    short_idle.insert(short_idle.end(), {"--idle-timeout", "1"});
    server_short_ = new served(start_ns_serve(short_idle));
  }
  static void TearDownTestSuite() {
    for (served* s : {server_, server_h1_, server_short_}) {
      if (s->process) {
        EXPECT_EQ(s->process->stop(SIGTERM, std::chrono::seconds(10)), 0)
            << s->process->stderr_text();
      }
      delete s;
    }
    delete dir_;
  }
  void SetUp() override {
    ASSERT_NE(server_->port, 0);
    ASSERT_NE(server_h1_->port, 0);
    ASSERT_NE(server_short_->port, 0);
  }
  static std::string url(const std::string& path, const served* s = server_) {
    return "https://127.0.0.1:" + std::to_string(s->port) + path;
  }
  static std::string out_path(const std::string& name) { return dir_->path() + "/" + name; }

  static temp_dir* dir_;
  static served* server_;
  static served* server_h1_;
  static served* server_short_;  ///< --idle-timeout 1
  static std::string small_;
  static std::string big_;
};

temp_dir* Http2Serve::dir_ = nullptr;
served* Http2Serve::server_ = nullptr;
served* Http2Serve::server_h1_ = nullptr;
served* Http2Serve::server_short_ = nullptr;
std::string Http2Serve::small_;
std::string Http2Serve::big_;

TEST_F(Http2Serve, CurlGetsCachedAndStreamedFilesOverH2) {
  EXPECT_EQ(curl("--http2 -o " + out_path("small.out") + " -w '%{http_version} %{http_code}' " +
                 url("/small.bin")),
            "2 200");
  EXPECT_EQ(read_file(out_path("small.out")), small_);
  // Streamed from the file in io_uring reads, paced by the flow-control windows.
  EXPECT_EQ(curl("--http2 -o " + out_path("big.out") + " -w '%{http_version} %{http_code}' " +
                 url("/big.bin")),
            "2 200");
  EXPECT_EQ(read_file(out_path("big.out")), big_);
}

TEST_F(Http2Serve, StaticSemanticsHoldOnH2) {
  // Range (RFC 9110 §14), served from the cache and from the file.
  EXPECT_EQ(curl("--http2 -r 10-19 " + url("/small.bin")), small_.substr(10, 10));
  EXPECT_EQ(curl("--http2 -r 1000000-1000099 " + url("/big.bin")), big_.substr(1000000, 100));
  EXPECT_EQ(curl("--http2 -o /dev/null -w '%{http_code}' -r 10-19 " + url("/small.bin")), "206");
  // Validators: the ETag of a 200 gives a 304.
  const std::string head = curl("--http2 -sI " + url("/index.html"));
  const auto at = head.find("etag: ");
  ASSERT_NE(at, std::string::npos) << head;
  const std::string etag = head.substr(at + 6, head.find('\r', at) - at - 6);
  EXPECT_EQ(curl("--http2 -o /dev/null -w '%{http_code}' -H 'If-None-Match: " + etag + "' " +
                 url("/index.html")),
            "304");
  EXPECT_NE(head.find("content-type: text/html"), std::string::npos) << head;
  // The custom 404 page; traversal refused.
  EXPECT_EQ(curl("--http2 " + url("/nope.html")), "<h1>custom not found</h1>\n");
  const std::string out = curl("--http2 --path-as-is " + url("/../secret.txt"));
  EXPECT_EQ(out.find("TOPSECRET"), std::string::npos) << out;
  // HEAD: the length GET would send, no body.
  const std::string h = curl("--http2 -sI " + url("/small.bin"));
  EXPECT_NE(h.find("content-length: 5000"), std::string::npos) << h;
  EXPECT_EQ(h.find("connection:"), std::string::npos) << h;  // RFC 9113 §8.2.2
}

TEST_F(Http2Serve, NoH2FlagOffersOnlyHttp11) {
  EXPECT_EQ(curl("--http2 -o /dev/null -w '%{http_version} %{http_code}' " +
                 url("/small.bin", server_h1_)),
            "1.1 200");
}

TEST_F(Http2Serve, NghttpSeesSettingsAndResponse) {
  const std::string out = run("nghttp -nv " + url("/index.html"));
  // The server's SETTINGS: 100 concurrent streams. ENABLE_CONNECT_PROTOCOL (RFC 8441) is held
  // back until WebSockets over HTTP/2 are carried (a browser would send them here).
  EXPECT_NE(out.find("recv SETTINGS frame"), std::string::npos) << out;
  EXPECT_NE(out.find("SETTINGS_MAX_CONCURRENT_STREAMS(0x03):100"), std::string::npos) << out;
  EXPECT_EQ(out.find("(0x08):1"), std::string::npos) << out;
  EXPECT_NE(out.find(":status: 200"), std::string::npos) << out;
  EXPECT_NE(out.find("recv DATA frame"), std::string::npos) << out;
}

TEST_F(Http2Serve, H2loadBoundedRunHasNoFailures) {
  const std::string out = run("h2load -n 1000 -c 10 -m 10 " + url("/small.bin"));
  EXPECT_NE(out.find("Application protocol: h2"), std::string::npos) << out;
  EXPECT_NE(out.find("1000 total, 1000 started, 1000 done, 1000 succeeded, 0 failed, 0 errored"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("status codes: 1000 2xx"), std::string::npos) << out;
}

TEST_F(Http2Serve, PlainListenerSpeaksH2cWithPriorKnowledge) {
  const std::string& d = dir_->path();
  served plain =
      start_ns_serve({"--root", d + "/www", "--plain", "--threads", "1", "--log-level", "warn"});
  ASSERT_NE(plain.port, 0);
  const std::string base = "http://127.0.0.1:" + std::to_string(plain.port);
  EXPECT_EQ(curl("--http2-prior-knowledge -o " + out_path("h2c.out") +
                 " -w '%{http_version} %{http_code}' " + base + "/small.bin"),
            "2 200");
  EXPECT_EQ(read_file(out_path("h2c.out")), small_);
  // HTTP/1.1 on the same listener is unchanged.
  EXPECT_EQ(curl("--http1.1 -o /dev/null -w '%{http_version} %{http_code}' " + base + "/"),
            "1.1 200");
  // The preface split across reads is still recognised; a request that only starts like it
  // ("PRI /x HTTP/1.1") stays HTTP/1.1.
  const std::string py =
      "/usr/bin/python3 -c \"import socket,time\n"
      "s=socket.create_connection(('127.0.0.1'," +
      std::to_string(plain.port) +
      "))\n"
      "s.sendall(b'PRI * HT'); time.sleep(0.2)\n"
      "s.sendall(b'TP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n\\0\\0\\0\\4\\0\\0\\0\\0\\0')\n"
      "print('frame type', s.recv(9)[3])\n"
      "t=socket.create_connection(('127.0.0.1'," +
      std::to_string(plain.port) +
      "))\n"
      "t.sendall(b'PRI /x HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n')\n"
      "print(t.recv(8).decode())\"";
  EXPECT_EQ(run(py), "frame type 4\nHTTP/1.1\n");
  // h2load speaks h2c with prior knowledge to http:// URLs.
  const std::string out = run("h2load -n 200 -c 4 -m 10 " + base + "/small.bin");
  EXPECT_NE(out.find("200 succeeded, 0 failed, 0 errored"), std::string::npos) << out;
  EXPECT_NE(out.find("Application protocol: h2c"), std::string::npos) << out;
  EXPECT_EQ(plain.process->stop(SIGTERM, std::chrono::seconds(10)), 0);
}

TEST_F(Http2Serve, ClientThatNeverOpensItsWindowIsCutOff) {
  // The HTTP/2 slow reader: its window stays 0, so the response waits with nothing queued;
  // the idle timeout (1 s here) still applies and the connection closes.
  const std::string script =
      std::string(NS_SOURCE_DIR) + "/tests/integration/h2_clients/slow_reader.py";
  const std::string out =
      run("/usr/bin/python3 " + script + " " + std::to_string(server_short_->port) + " /big.bin 8");
  ASSERT_EQ(out.rfind("closed ", 0), 0u) << out;
  EXPECT_LT(std::stod(out.substr(7)), 5.0) << out;
  EXPECT_EQ(out.substr(out.rfind(' ') + 1), "0\n") << out;  // not one byte past the window
}

}  // namespace
}  // namespace ns::test
