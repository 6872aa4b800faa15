// SPDX-License-Identifier: MIT
#pragma once
// ns_serve's WebSocket endpoints on top of the static site:
//   /ws/echo              every message comes back to its sender, text as text, binary as binary;
//   /ws/chat?room=NAME    every message goes to every client of the same room (the sender
//                         included), on every thread: a room is a topic ("chat/NAME") of the
//                         process's topic hub. No room (or an empty one): "lobby".

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <network_server/network_server.hpp>

#include "bin/static_site.hpp"

namespace ns::serve {

/// What a moving /ws/echo connection carries (a /ws/chat one carries its topic).
inline constexpr std::string_view echo_blob = "echo";

/// The longest room name; room names are made of A-Z a-z 0-9 . _ ~ - (URL-safe as they are).
inline constexpr std::size_t max_room_name = 64;

/// The topic of the room a /ws/chat request-target names ("/ws/chat?room=blue" → "chat/blue",
/// no or an empty room → "chat/lobby"); nullopt for a name that is too long or has other bytes.
std::optional<std::string> chat_topic(std::string_view target);

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
  /// An upgrade moves a WebSocket to the new process with its endpoint: "echo", or the room's
  /// topic ("chat/NAME"), which it joins again there.
  std::string connection_moving(client_num_t client_num) override;
  void connection_moved_in(client_num_t client_num, bool websocket, std::string_view blob) override;

 private:
  network_server* ws_server_ = nullptr;
  // Accepted connections: /ws/echo ones have an empty topic, /ws/chat ones their room's.
  std::unordered_map<client_num_t, std::string> endpoints_;
};

}  // namespace ns::serve
