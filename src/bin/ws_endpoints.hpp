// SPDX-License-Identifier: MIT
#pragma once
// ns_serve's WebSocket endpoints on top of the static site:
//   /ws/echo  every message comes back to its sender, text as text, binary as binary;
//   /ws/chat  every message goes to every client connected to /ws/chat (the sender included).

#include <cstdint>
#include <unordered_map>
#include <vector>

#include <network_server/network_server.hpp>

#include "bin/static_site.hpp"

namespace ns::serve {

class ws_site;

/// /ws/chat across threads: each loop has its own ws_site and its own members; a message
/// broadcast on one loop is posted to every other loop, which broadcasts it to its members.
/// Filled in before the loops start, read-only afterwards.
class chat_room {
 public:
  void add(network_server& server, ws_site& site) { members_.push_back({&server, &site}); }
  /// Hands @p data to every loop except @p from's (on their own threads, via post()).
  void relay(const ws_site* from, std::span<const std::byte> data, ws_message_type type) const;

 private:
  struct member {
    network_server* server;
    ws_site* site;
  };
  std::vector<member> members_;
};

class ws_site : public static_site {
 public:
  using static_site::static_site;

  void server_started_callback(network_server& server) override;
  ws_accept_decision websocket_upgrade_callback(const http_request& request,
                                                client_num_t client_num) override;
  void websocket_open_callback(client_num_t client_num) override;
  void websocket_read_callback(std::span<const std::byte> data, ws_message_type type,
                               client_num_t client_num, bool failed_req) override;
  void websocket_close_callback(client_num_t client_num, std::uint16_t code) override;

  /// Joins the process-wide chat room (ns_serve with several threads).
  void set_room(const chat_room* room) noexcept { room_ = room; }

  /// Broadcasts @p data to this loop's /ws/chat members. Loop thread only.
  void deliver(std::span<const std::byte> data, ws_message_type type);

  /// Clients connected to /ws/chat (for tests and status).
  [[nodiscard]] std::size_t chat_members() const noexcept { return chat_.size(); }

 private:
  enum class endpoint : std::uint8_t { echo, chat };
  network_server* ws_server_ = nullptr;
  const chat_room* room_ = nullptr;
  std::unordered_map<client_num_t, endpoint> endpoints_;  // accepted, by handle
  std::vector<client_num_t> chat_;                        // broadcast list of /ws/chat
};

}  // namespace ns::serve
