// SPDX-License-Identifier: MIT
#include "bin/ws_endpoints.hpp"

#include <algorithm>
#include <cerrno>

#include "http/query.hpp"

namespace ns::serve {
namespace {

bool room_char(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch == '.' || ch == '_' || ch == '~' || ch == '-';
}

}  // namespace

std::optional<std::string> chat_topic(std::string_view target) {
  std::string_view room = http::query_value(target, "room").value_or("");
  if (room.empty()) room = "lobby";
  if (room.size() > max_room_name || !std::all_of(room.begin(), room.end(), room_char)) {
    return std::nullopt;
  }
  return "chat/" + std::string(room);
}

void ws_site::server_started_callback(network_server& server) {
  ws_server_ = &server;
  static_site::server_started_callback(server);
}

ws_accept_decision ws_site::websocket_upgrade_callback(const http_request& request,
                                                       client_num_t client_num) {
  const std::string_view path = request.path();
  ws_accept_decision d;
  if (path == "/ws/echo") {
    endpoints_[client_num] = std::string();
    d.accept = true;
  } else if (path == "/ws/chat") {
    std::optional<std::string> topic = chat_topic(request.target);
    if (!topic) {
      d.reject_status = 400;
      return d;
    }
    endpoints_[client_num] = std::move(*topic);
    d.accept = true;
  }
  return d;  // other paths: 404
}

void ws_site::websocket_open_callback(client_num_t client_num) {
  const auto it = endpoints_.find(client_num);
  if (it == endpoints_.end() || it->second.empty()) return;
  if (ws_server_->subscribe(client_num, it->second) != 0) {
    ws_server_->websocket_close(client_num, 1011, "cannot join the room");
  }
}

void ws_site::websocket_read_callback(std::span<const std::byte> data, ws_message_type type,
                                      client_num_t client_num, bool failed_req) {
  if (failed_req) return;  // the server already sent the close code
  const auto it = endpoints_.find(client_num);
  if (it == endpoints_.end()) return;
  if (!it->second.empty()) {
    // Every member of the room, on every thread; in order for each sender.
    ws_server_->publish(it->second, data, type);
    return;
  }
  // A client that does not read its echoes until the queue bound is hit is told to come back
  // later (1013 Try Again Later) rather than buffered for without limit.
  if (ws_server_->websocket_write(client_num, data, type) == -ENOBUFS) {
    ws_server_->websocket_close(client_num, 1013, "not reading");
  }
}

std::string ws_site::connection_moving(client_num_t client_num) {
  const auto it = endpoints_.find(client_num);
  if (it == endpoints_.end()) return {};  // HTTP/1.1: nothing of ours to carry
  return it->second.empty() ? std::string(echo_blob) : it->second;
}

void ws_site::connection_moved_in(client_num_t client_num, bool websocket, std::string_view blob) {
  if (!websocket) return;
  if (blob == echo_blob) {
    endpoints_[client_num] = std::string();
    return;
  }
  // A room's topic from the process we replace: checked as if it came from a request.
  const std::string_view prefix = "chat/";
  if (!blob.starts_with(prefix) ||
      !chat_topic("?room=" + std::string(blob.substr(prefix.size())))) {
    ws_server_->websocket_close(client_num, 1011, "unknown endpoint after an upgrade");
    return;
  }
  endpoints_[client_num] = std::string(blob);
  websocket_open_callback(client_num);  // joins the room again
}

void ws_site::websocket_close_callback(client_num_t client_num, std::uint16_t) {
  endpoints_.erase(client_num);  // the connection left its room's topic by itself
}

}  // namespace ns::serve
