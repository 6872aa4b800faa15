// SPDX-License-Identifier: MIT
#pragma once
// WebSocket end-to-end test helpers: an in-process network_server on a thread with a recording
// application (echo, chat, scripted actions), and a blocking WSS client that frames with
// ns::ws::connection in client role over tests/support's OpenSSL client.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <network_server/network_server.hpp>

#include "support/process.hpp"
#include "support/tls_client.hpp"
#include "ws/connection.hpp"

namespace ns::test {

/// What the test application saw; guarded by `m`.
struct ws_record {
  std::mutex m;
  std::condition_variable cv;
  std::vector<client_num_t> opened;
  std::map<client_num_t, std::uint16_t> ws_closed;  ///< websocket_close_callback code
  int ws_close_calls = 0;
  int http_close_calls = 0;
  int failed_reads = 0;
  int write_callbacks = 0;
  int writev_callbacks = 0;
  int failed_writes = 0;
  int drains = 0;
  int enobufs = 0;
  std::int64_t queued_at_enobufs = 0;
  broadcast_result last_broadcast;
  std::size_t broadcast_slow_total = 0;
  std::size_t messages = 0;
};

/// Test application. Upgrades: /echo, /chat (broadcast to every /chat client), /sub (confirms
/// subprotocol "chat.v1"); other paths are refused (404). Plain requests get 200 "plain".
/// Messages on /echo are echoed, except the commands "close:<code>", "writev", "flood".
class ws_test_app : public application_methods {
 public:
  void server_started_callback(network_server& s) override { server = &s; }
  void http_read_callback(const http_request& req, client_num_t c) override;
  void http_close_callback(client_num_t c) override;
  ws_accept_decision websocket_upgrade_callback(const http_request& req, client_num_t c) override;
  void websocket_open_callback(client_num_t c) override;
  void websocket_read_callback(std::span<const std::byte> data, ws_message_type type,
                               client_num_t c, bool failed) override;
  void websocket_write_callback(client_num_t c, bool failed) override;
  void websocket_writev_callback(client_num_t c, bool failed) override;
  void websocket_drain_callback(client_num_t c) override;
  void websocket_close_callback(client_num_t c, std::uint16_t code) override;

  /// Waits until @p pred (called under the lock) holds; false on timeout.
  bool wait(const std::function<bool(ws_record&)>& pred,
            std::chrono::milliseconds timeout = std::chrono::seconds(10));

  network_server* server = nullptr;
  ws_record rec;
  std::vector<client_num_t> chat;  ///< loop thread only
  std::map<client_num_t, bool> is_chat;
};

/// A network_server with ws_test_app (or another app) on its own thread, TLS with a fresh
/// self-signed certificate; with @p topics, one of the loops sharing that hub.
class ws_server {
 public:
  explicit ws_server(std::function<void(server_config&)> tune = {},
                     application_methods* app = nullptr,
                     std::shared_ptr<topic_hub> topics = nullptr);
  ~ws_server();
  [[nodiscard]] std::uint16_t port() const { return port_; }
  ws_test_app& app() { return app_; }
  /// The server (set before the constructor returns; calls that are safe from any thread).
  network_server& server() { return *server_; }

 private:
  temp_dir dir_;
  ws_test_app app_;
  std::unique_ptr<network_server> server_;
  std::thread loop_;
  std::uint16_t port_ = 0;
  int rc_ = -1;
};

/// One event seen by the client, with its payload copied.
struct ws_event {
  ws::event_type type = ws::event_type::none;
  ws::opcode op = ws::opcode::binary;
  std::string data;
  std::uint16_t code = 0;
};

/// Blocking WSS client for tests.
class ws_client {
 public:
  struct options {
    std::string path = "/echo";
    std::string extra_headers;  ///< full header lines, each ending in \r\n
    bool deflate = false;       ///< offer permessage-deflate
    std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
    std::string version = "13";
    std::string trailing;    ///< bytes sent in the same write right after the request
    bool auto_reply = true;  ///< send the pongs / close echo the protocol queues
    std::chrono::milliseconds timeout{10000};  ///< per blocking read
    bool keep_received = false;  ///< keep every byte after the response head (received())
  };

  /// Connects, sends the upgrade request and reads the response head. True if a response was
  /// read (see status()); the connection is usable for frames when status() == 101.
  bool connect(std::uint16_t port, const options& opt);
  bool connect(std::uint16_t port) { return connect(port, options{}); }
  [[nodiscard]] int status() const { return status_; }
  /// Why connect() failed.
  [[nodiscard]] const std::string& error() const { return error_; }
  [[nodiscard]] const std::string& head() const { return head_; }
  /// Header value from the response head (name lower-case), or "".
  [[nodiscard]] std::string header(const std::string& lower_name) const;

  /// Sends one whole message (masked; compressed if deflate was agreed).
  bool send(ws::opcode op, std::string_view payload);
  bool send_text(std::string_view s) { return send(ws::opcode::text, s); }
  /// Sends one frame as given (masked with a fixed key unless @p mask is false).
  bool send_frame(unsigned first_byte, std::string_view payload, bool mask = true);
  bool send_raw(std::string_view bytes);

  /// The next event (message, ping, pong, close, failed); nullopt on timeout or EOF.
  std::optional<ws_event> next();
  /// The next message or close, skipping pings and pongs.
  std::optional<ws_event> next_message();
  /// True if the server closed the TCP connection (EOF) within the timeout.
  bool wait_eof();
  [[nodiscard]] bool deflate_agreed() const { return deflate_; }
  /// With options::keep_received: the server's frames exactly as they came (after TLS), so a
  /// test can look at what the decoder hides (RSV1, compressed payloads).
  [[nodiscard]] const std::string& received() const { return received_; }
  [[nodiscard]] int fd() const { return tls_.fd(); }
  ws::connection& proto() { return *proto_; }

 private:
  bool flush_output();
  int read_some(char* buf, int n);
  tls_client tls_;
  std::unique_ptr<ws::connection> proto_;
  std::vector<std::byte> in_;
  std::size_t off_ = 0;
  std::string head_;
  std::string error_;
  std::string received_;
  int status_ = 0;
  bool keep_received_ = false;
  bool deflate_ = false;
  bool auto_reply_ = true;
};

/// A payload of @p n bytes; text is ASCII, binary covers every byte value.
std::string make_payload(std::size_t n, bool text);

/// One data frame as the server put it on the wire.
struct wire_frame {
  bool rsv1 = false;
  std::string payload;  ///< still compressed if rsv1
};

/// Splits a client's received bytes (ws_client::received(): server frames, unmasked) into its
/// data frames, control frames left out.
std::vector<wire_frame> data_frames(const std::string& bytes);

}  // namespace ns::test
