// SPDX-License-Identifier: MIT
#include "sio.hpp"

namespace ns::bench::sio {

kind classify(std::string_view text, std::string_view name, std::string_view& arg) {
  arg = {};
  if (text.empty()) return kind::unknown;
  switch (text[0]) {
    case '0':
      return text.size() > 1 && text[1] == '{' ? kind::open : kind::unknown;
    case '1':
      return text.size() == 1 ? kind::disconnected : kind::unknown;
    case '2':
      return text.size() == 1 ? kind::ping : kind::unknown;
    case '4':
      break;
    default:
      return kind::unknown;
  }
  if (text.size() < 2) return kind::unknown;
  const std::string_view rest = text.substr(2);
  switch (text[1]) {
    case '0':
      return rest.empty() || rest[0] == '{' ? kind::connected : kind::unknown;
    case '1':
      return rest.empty() ? kind::disconnected : kind::unknown;
    case '4':
      return kind::connect_error;
    case '2':
      break;
    default:
      return kind::unknown;
  }
  // ["NAME","ARG"] exactly: the servers under test emit no other shape for this event.
  const std::string head = "[\"" + std::string(name) + "\",\"";
  if (!rest.starts_with(head) || !rest.ends_with("\"]")) return kind::unknown;
  if (rest.size() < head.size() + 2) return kind::unknown;
  const std::string_view a = rest.substr(head.size(), rest.size() - head.size() - 2);
  if (a.find_first_of("\"\\") != std::string_view::npos) return kind::unknown;
  arg = a;
  return kind::event;
}

std::string event_packet(std::string_view name, std::string_view arg) {
  std::string out;
  out.reserve(name.size() + arg.size() + 9);
  out.append("42[\"").append(name).append("\",\"").append(arg).append("\"]");
  return out;
}

}  // namespace ns::bench::sio
