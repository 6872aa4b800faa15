// SPDX-License-Identifier: MIT
// The example programs do what their header comments promise: hello_https answers over TLS,
// websocket_echo echoes a WSS message, push_from_thread delivers ticks from its producer
// thread. Each runs as a child process on an ephemeral port with a fresh certificate.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "support/process.hpp"
#include "support/tls_client.hpp"
#include "tls/self_signed.hpp"

namespace ns::test {
namespace {

// A client frame (RFC 6455 §5.2): FIN + opcode, masked, payload < 126 bytes.
std::string client_frame(std::uint8_t opcode, std::string_view payload) {
  const char mask[4] = {0x11, 0x22, 0x33, 0x44};
  std::string f;
  f += static_cast<char>(0x80 | opcode);
  f += static_cast<char>(0x80 | payload.size());
  f.append(mask, 4);
  for (std::size_t i = 0; i < payload.size(); ++i) f += static_cast<char>(payload[i] ^ mask[i % 4]);
  return f;
}

class Examples : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = dir_.path() + "/server.crt";
    key_ = dir_.path() + "/server.key";
    tls::write_pem_files(tls::make_self_signed(), cert_, key_);
  }
  // Starts example_<name> CERT KEY 0 and returns the port it printed.
  std::uint16_t start(const std::string& name) {
    process_ = std::make_unique<child_process>(
        std::vector<std::string>{binary_path("examples/example_" + name), cert_, key_, "0"});
    const std::string out = process_->wait_for_output("://127.0.0.1:", std::chrono::seconds(20));
    const auto at = out.find("://127.0.0.1:");
    return at == std::string::npos ? 0
                                   : static_cast<std::uint16_t>(std::atoi(out.c_str() + at + 13));
  }
  // Upgrades @p c to WebSocket on @p path; true on 101.
  static bool upgrade(tls_client& c, const std::string& path) {
    c.write("GET " + path +
            " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    const http_response r = c.read_response();
    return r.status == 101 && r.headers.count("sec-websocket-accept") == 1 &&
           r.headers.at("sec-websocket-accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
  }
  void TearDown() override {
    if (process_) {
      EXPECT_EQ(process_->stop(SIGINT, std::chrono::seconds(10)), 0);
    }
  }

  temp_dir dir_;
  std::string cert_, key_;
  std::unique_ptr<child_process> process_;
};

TEST_F(Examples, HelloHttpsAnswers) {
  const std::uint16_t port = start("hello_https");
  ASSERT_NE(port, 0) << process_->stderr_text();
  tls_client c;
  ASSERT_TRUE(c.connect(port)) << c.error();
  ASSERT_TRUE(c.write("GET /world HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  const http_response r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello, /world\n");
}

TEST_F(Examples, WebsocketEchoEchoesAndRefusesOtherPaths) {
  const std::uint16_t port = start("websocket_echo");
  ASSERT_NE(port, 0) << process_->stderr_text();
  {
    tls_client other;
    ASSERT_TRUE(other.connect(port)) << other.error();
    EXPECT_FALSE(upgrade(other, "/elsewhere"));
  }
  tls_client c;
  ASSERT_TRUE(c.connect(port)) << c.error();
  ASSERT_TRUE(upgrade(c, "/echo"));
  ASSERT_TRUE(c.write(client_frame(0x1, "hello echo")));
  ASSERT_TRUE(c.write(client_frame(0x8, "\x03\xe8")));  // close 1000
  const std::string got = c.read_until_close();
  // Server frames are unmasked: 0x81 len "hello echo", then the close echo 0x88 0x02 0x03 0xe8.
  EXPECT_EQ(got.substr(0, 12), std::string("\x81\x0a") + "hello echo");
  EXPECT_EQ(got.substr(12, 4), std::string("\x88\x02\x03\xe8", 4));
}

TEST_F(Examples, PushFromThreadDeliversTicks) {
  const std::uint16_t port = start("push_from_thread");
  ASSERT_NE(port, 0) << process_->stderr_text();
  tls_client a, b;
  ASSERT_TRUE(a.connect(port)) << a.error();
  ASSERT_TRUE(b.connect(port)) << b.error();
  ASSERT_TRUE(upgrade(a, "/ticks"));
  ASSERT_TRUE(upgrade(b, "/ticks"));
  std::this_thread::sleep_for(std::chrono::milliseconds(2300));  // the producer ticks each second
  for (tls_client* c : {&a, &b}) {
    ASSERT_TRUE(c->write(client_frame(0x8, "\x03\xe8")));
    const std::string got = c->read_until_close();
    EXPECT_NE(got.find("\x81\x06tick "), std::string::npos) << got.size();
  }
}

}  // namespace
}  // namespace ns::test
