// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The client side of Socket.IO 5 over Engine.IO 4 on a WebSocket (transport=websocket, no
/// polling), as much as cluster_fanout needs: one packet per WebSocket text message, the first
/// character the Engine.IO type (0 open, 2 ping, 4 message) and, in a message, the next the
/// Socket.IO type (0 connect, 1 disconnect, 2 event, 4 connect error). Sans-IO: text in, a
/// classification and the text to answer out.

#include <string>
#include <string_view>

namespace ns::bench::sio {

/// What a text message from a Socket.IO server is.
enum class kind {
  open,           ///< "0{...}": Engine.IO session open; answer connect_packet
  ping,           ///< "2": answer pong_packet, or the server drops the session
  connected,      ///< "40{...}": joined the main namespace
  event,          ///< "42[\"NAME\",\"ARG\"]": an event with one string argument
  disconnected,   ///< "41", "1": the server ended the session
  connect_error,  ///< "44{...}"
  unknown,        ///< anything else (binary events, acks, other namespaces, malformed)
};

inline constexpr std::string_view connect_packet = "40";  // the main namespace, no auth
inline constexpr std::string_view pong_packet = "3";

/// Classifies one text message; for kind::event, @p arg receives the argument (a view into
/// @p text) when the event is named @p name and the argument is a JSON string without escapes.
/// An event of another name, or with another argument shape, is kind::unknown.
kind classify(std::string_view text, std::string_view name, std::string_view& arg);

/// The text of event @p name with string argument @p arg (no character in @p arg may need
/// JSON escaping: the caller's payloads are printable ASCII without '"' and '\\').
std::string event_packet(std::string_view name, std::string_view arg);

}  // namespace ns::bench::sio
