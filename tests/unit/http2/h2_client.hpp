// SPDX-License-Identifier: MIT
#pragma once
// A test client over nghttp2's own client session: it produces real HTTP/2 frames for
// http2::session and records what comes back, so the server side is tested against the
// library's implementation of the protocol, not against our reading of it.

#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "http2/session.hpp"

namespace ns::http2::test {

struct client_stream {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool closed = false;
  std::uint32_t close_code = 0;
};

class h2_client {
 public:
  /// @p auto_window false: the client never sends WINDOW_UPDATE on its own (flow-control tests).
  explicit h2_client(bool auto_window = true, std::uint32_t initial_window = 65535);
  ~h2_client();
  h2_client(const h2_client&) = delete;
  h2_client& operator=(const h2_client&) = delete;

  /// Submits a request; returns its stream id. @p body empty: no DATA.
  std::int32_t request(std::string_view method, std::string_view path,
                       std::vector<std::pair<std::string, std::string>> extra = {},
                       std::string body = {});
  /// Every byte the client wants to send now (preface, SETTINGS, frames, ACKs).
  std::vector<std::byte> output();
  /// Feeds server bytes to the client.
  void input(std::span<const std::byte> bytes);
  /// Gives back @p n bytes of @p stream's window (the client "consumed" them).
  void consume(std::int32_t stream, std::size_t n);
  void reset(std::int32_t stream, std::uint32_t code);
  [[nodiscard]] std::uint32_t remote_setting(nghttp2_settings_id id) const;
  [[nodiscard]] bool got_goaway() const noexcept { return goaway_; }
  [[nodiscard]] std::uint32_t goaway_code() const noexcept { return goaway_code_; }

  std::map<std::int32_t, client_stream> streams;

 private:
  static int on_header(nghttp2_session*, const nghttp2_frame*, const std::uint8_t*, std::size_t,
                       const std::uint8_t*, std::size_t, std::uint8_t, void*);
  static int on_data(nghttp2_session*, std::uint8_t, std::int32_t, const std::uint8_t*, std::size_t,
                     void*);
  static int on_close(nghttp2_session*, std::int32_t, std::uint32_t, void*);
  static int on_frame(nghttp2_session*, const nghttp2_frame*, void*);
  static ssize_t read_body(nghttp2_session*, std::int32_t, std::uint8_t*, std::size_t,
                           std::uint32_t*, nghttp2_data_source*, void*);

  nghttp2_session* s_ = nullptr;
  std::map<std::int32_t, std::string> bodies_;  // request bodies still to send
  bool goaway_ = false;
  std::uint32_t goaway_code_ = 0;
};

/// Moves bytes both ways until neither side has anything to say. False if the server's feed
/// failed (its last output is still delivered to the client).
bool exchange(h2_client& c, session& s);

}  // namespace ns::http2::test
