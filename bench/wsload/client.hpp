// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// One non-blocking WSS (or HTTPS keep-alive) client connection driven by an edge-triggered
/// epoll loop: TCP connect → TLS (OpenSSL on the socket) → HTTP/1.1 Upgrade → WebSocket frames
/// through ns::ws::connection in client role (masking, permessage-deflate).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <openssl/ssl.h>

#include "ws/connection.hpp"

namespace ns::bench {

/// Where and how a client connects.
struct client_config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8443;
  std::string path = "/ws/echo";      ///< upgrade target (or the GET target in http mode)
  std::string extensions_offer;       ///< Sec-WebSocket-Extensions value; empty: none offered
  bool http_only = false;             ///< GET path with keep-alive instead of an upgrade
  std::size_t max_message = 1 << 24;  ///< limits of the client-side codec
};

/// Connection phases, in order.
enum class phase : std::uint8_t { connecting, tls, response, open, closing, done, failed };

class client;

/// What the load generator is told about a connection.
class client_handler {
 public:
  virtual ~client_handler() = default;
  /// Upgrade complete (101 verified) or, in http mode, the response fully read.
  virtual void on_open(client& c) = 0;
  /// A complete message (views valid only during the call).
  virtual void on_message(client& c, const ws::event& ev) = 0;
  /// The connection ended (phase done after a clean close, failed otherwise).
  virtual void on_closed(client& c) = 0;
};

/// One connection. Register it with start(); call drive() on every epoll event.
class client {
 public:
  client(SSL_CTX* ctx, const client_config& cfg, client_handler& handler, int epfd,
         std::uint32_t mask_seed);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Creates the socket and starts connecting; false (phase failed) on immediate errors.
  bool start();
  /// Does everything possible without blocking (handshake, writes, reads, callbacks).
  void drive();
  /// Queues one message (masked; compressed if deflate was agreed and @p compress).
  void send_message(ws::opcode op, std::span<const std::byte> payload, bool compress = true);
  /// Queues a close frame; the connection ends when the server's close and EOF arrive.
  void start_close();
  /// Closes the socket now (no handshake).
  void abort();

  [[nodiscard]] phase state() const noexcept { return phase_; }
  [[nodiscard]] bool deflate_agreed() const noexcept { return deflate_; }
  [[nodiscard]] const std::string& failure() const noexcept { return why_; }
  std::uint64_t started_ns = 0;   ///< set by the owner (latency of storms)
  std::uint64_t user = 0;         ///< owner's slot index
  std::uint64_t sent_ns = 0;      ///< owner's: when the outstanding message was sent
  std::uint32_t seq = 0;          ///< owner's: sequence number of the outstanding message
  bool opened = false;            ///< owner's: on_open was called
  std::vector<std::byte> expect;  ///< owner's: the outstanding message

 private:
  void fail(std::string why);
  void finish();
  void queue(std::span<const std::byte> bytes);
  void queue_request();
  bool flush();
  bool send_net();
  bool recv_net();
  void read_all();
  void on_plaintext(std::span<const std::byte> in);
  bool parse_response();
  void feed_ws(std::span<const std::byte> in);

  SSL_CTX* ctx_;
  const client_config& cfg_;
  client_handler& handler_;
  int epfd_;
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  // The TLS engine works on memory BIOs and the socket is read and written here: one read()
  // takes everything that arrived (a short read proves the socket drained, which the
  // edge-triggered epoll needs), instead of OpenSSL's read per record header and body plus a
  // final read for EAGAIN. The generator then costs fewer system calls per message than the
  // servers it measures, so it can load them to saturation.
  BIO* rbio_ = nullptr;             // owned by ssl_
  BIO* wbio_ = nullptr;             // owned by ssl_
  std::vector<std::byte> net_out_;  // ciphertext the socket has not taken yet
  std::size_t net_off_ = 0;
  bool eof_ = false;
  phase phase_ = phase::connecting;
  bool deflate_ = false;
  std::uint32_t mask_seed_;
  std::string key_;
  std::string head_;  // response head being assembled
  std::size_t body_left_ = 0;
  std::vector<std::byte> out_;
  std::size_t out_off_ = 0;
  std::unique_ptr<ws::connection> ws_;
  std::string why_;
};

/// Monotonic nanoseconds.
std::uint64_t now_ns() noexcept;

}  // namespace ns::bench
