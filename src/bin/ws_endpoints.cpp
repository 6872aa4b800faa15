// SPDX-License-Identifier: MIT
#include "bin/ws_endpoints.hpp"

#include <memory>

#include <algorithm>
#include <cerrno>

namespace ns::serve {

void ws_site::server_started_callback(network_server& server) {
  ws_server_ = &server;
  static_site::server_started_callback(server);
}

ws_accept_decision ws_site::websocket_upgrade_callback(const http_request& request,
                                                       client_num_t client_num) {
  const std::string_view path = request.path();
  ws_accept_decision d;
  if (path == "/ws/echo") {
    endpoints_[client_num] = endpoint::echo;
    d.accept = true;
  } else if (path == "/ws/chat") {
    endpoints_[client_num] = endpoint::chat;
    d.accept = true;
  }
  return d;  // other paths: 404
}

void ws_site::websocket_open_callback(client_num_t client_num) {
  const auto it = endpoints_.find(client_num);
  if (it != endpoints_.end() && it->second == endpoint::chat) chat_.push_back(client_num);
}

void ws_site::websocket_read_callback(std::span<const std::byte> data, ws_message_type type,
                                      client_num_t client_num, bool failed_req) {
  if (failed_req) return;  // the server already sent the close code
  const auto it = endpoints_.find(client_num);
  if (it == endpoints_.end()) return;
  if (it->second == endpoint::echo) {
    // A client that does not read its echoes until the queue bound is hit is told to come back
    // later (1013 Try Again Later) rather than buffered for without limit.
    if (ws_server_->websocket_write(client_num, data, type) == -ENOBUFS) {
      ws_server_->websocket_close(client_num, 1013, "not reading");
    }
    return;
  }
  deliver(data, type);
  if (room_ != nullptr) room_->relay(this, data, type);
}

void ws_site::deliver(std::span<const std::byte> data, ws_message_type type) {
  if (!chat_.empty()) ws_server_->websocket_broadcast(chat_, data, type);
}

void chat_room::relay(const ws_site* from, std::span<const std::byte> data,
                      ws_message_type type) const {
  if (members_.size() < 2) return;
  // One copy shared by every other loop; each broadcasts it on its own thread.
  auto copy = std::make_shared<const std::vector<std::byte>>(data.begin(), data.end());
  for (const member& m : members_) {
    if (m.site == from) continue;
    ws_site* site = m.site;
    m.server->post([site, copy, type] { site->deliver(*copy, type); });  // -ESHUTDOWN: stopping
  }
}

void ws_site::websocket_close_callback(client_num_t client_num, std::uint16_t) {
  endpoints_.erase(client_num);
  const auto it = std::find(chat_.begin(), chat_.end(), client_num);
  if (it != chat_.end()) {
    *it = chat_.back();  // order of members does not matter
    chat_.pop_back();
  }
}

}  // namespace ns::serve
