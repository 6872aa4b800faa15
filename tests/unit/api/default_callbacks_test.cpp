// SPDX-License-Identifier: MIT
// The base `application_methods` is a usable application on its own: every callback has a
// default, so an application overrides only what it needs. The defaults that answer something
// must answer the documented refusal (stream: false → 413; upgrade: not accepted, 404), and the
// notification defaults must be harmless no-ops callable with any handle.
#include <array>
#include <cstddef>
#include <span>

#include <gtest/gtest.h>
#include <network_server/application_methods.hpp>

namespace {

ns::http_request upgrade_request() {
  ns::http_request r;
  r.method = "GET";
  r.target = "/ws";
  r.upgrade = true;
  r.headers = {{"Upgrade", "websocket"}, {"Sec-WebSocket-Protocol", "chat"}};
  return r;
}

TEST(DefaultCallbacks, UpgradeIsRefusedWith404AndNoSubprotocol) {
  ns::application_methods app;
  const ns::ws_accept_decision d = app.websocket_upgrade_callback(upgrade_request(), 7);
  EXPECT_FALSE(d.accept);
  EXPECT_TRUE(d.subprotocol.empty()) << "a refusal must not confirm the client's offer";
  EXPECT_EQ(d.reject_status, 404);
}

TEST(DefaultCallbacks, LargeBodiesAreNotStreamed) {
  ns::application_methods app;
  ns::http_request r;
  r.method = "POST";
  r.target = "/upload";
  EXPECT_FALSE(app.http_stream_callback(r, 1)) << "default must let the server answer 413";
}

// A subclass that overrides one callback still gets the defaults for the rest, through the
// base pointer the server holds.
struct counting_app : ns::application_methods {
  int reads = 0;
  void http_read_callback(const ns::http_request&, ns::client_num_t) override { ++reads; }
};

TEST(DefaultCallbacks, NotificationDefaultsAreNoOpsThroughTheBase) {
  counting_app derived;
  ns::application_methods& app = derived;
  const ns::http_request req = upgrade_request();
  std::array<std::byte, 4> buf{};
  iovec iov{buf.data(), buf.size()};
  const ns::client_num_t c = 42;

  EXPECT_NO_THROW({
    app.accept_callback(c);
    app.http_write_callback(c);
    app.http_write_callback(c, true);
    app.http_writev_callback(c, true);
    app.http_response_log_callback(c, req, ns::http_response_info{200, 10, "127.0.0.1:1"});
    app.http_body_callback(c, std::span<const std::byte>(buf), true, false);
    app.connection_error_callback(c, "tls: handshake failed");
    app.http_close_callback(c);
    app.raw_read_callback(std::span<std::byte>(buf), c, false);
    app.raw_readv_callback(std::span<const iovec>(&iov, 1), buf.size(), c, true);
    app.raw_write_callback(c, true);
    app.raw_writev_callback(c);
    app.raw_close_callback(c);
    app.event_trigger_callback(c, 5);
    app.event_error_close_callback(c, 6);
    app.websocket_open_callback(c);
    app.websocket_read_callback(std::span<const std::byte>(buf), ns::ws_message_type::binary, c,
                                false);
    app.websocket_write_callback(c, false);
    app.websocket_writev_callback(c, true);
    app.websocket_drain_callback(c);
    app.websocket_close_callback(c, 1000);
  });
  // The defaults must not touch the buffers they are handed.
  for (std::byte b : buf) EXPECT_EQ(b, std::byte{0});
  // The one override still dispatches virtually.
  app.http_read_callback(req, c);
  EXPECT_EQ(derived.reads, 1);
}

TEST(DefaultCallbacks, BaseReadCallbackIgnoresTheRequest) {
  ns::application_methods app;
  const ns::http_request req = upgrade_request();
  app.http_read_callback(req, ns::invalid_client);
  // The request the server still owns is untouched.
  EXPECT_EQ(req.header("upgrade"), "websocket");
  EXPECT_EQ(req.headers.size(), 2u);
}

}  // namespace
