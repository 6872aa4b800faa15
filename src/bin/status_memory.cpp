// SPDX-License-Identifier: MIT
#include "bin/status_memory.hpp"

#include <algorithm>

namespace ns::serve {
namespace {

void field(std::string& j, const char* name, std::uint64_t v, bool last = false) {
  j += '"';
  j += name;
  j += "\": ";
  j += std::to_string(v);
  j += last ? "" : ", ";
}

void by_kind(std::string& j, const memory_by_kind& m) {
  field(j, "tls", m.tls);
  field(j, "input", m.input);
  field(j, "output", m.output);
  field(j, "websocket", m.websocket);
  field(j, "zlib", m.zlib);
  field(j, "total", m.total(), true);
}

// A peer is "ip:port" (or "[v6]:port"); anything else is escaped rather than trusted.
void string_value(std::string& j, std::string_view s) {
  j += '"';
  for (const char c : s) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      static constexpr char hex[] = "0123456789abcdef";
      j += "\\u00";
      j += hex[(static_cast<unsigned char>(c) >> 4) & 0xF];
      j += hex[c & 0xF];
    } else {
      j += c;
    }
  }
  j += '"';
}

bool larger(const connection_memory& a, const connection_memory& b) noexcept {
  return a.bytes.total() > b.bytes.total();
}

}  // namespace

void add_memory(memory_counters& t, const memory_counters& s) noexcept {
  t.accounted += s.accounted;
  t.shed_connections += s.shed_connections;
  t.refused += s.refused;
  t.limit = std::max(t.limit, s.limit);
  t.over_cap = t.over_cap || s.over_cap;
}

void keep_largest(std::vector<connection_memory>& all, std::vector<connection_memory> more,
                  std::size_t n) {
  all.insert(all.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  std::sort(all.begin(), all.end(), larger);
  if (all.size() > n) all.resize(n);
}

void append_memory_json(std::string& j, const memory_counters& m,
                        std::span<const connection_memory> largest) {
  j += "\"memory\": {";
  field(j, "limit", m.limit);
  j += "\"over_cap\": ";
  j += m.over_cap ? "true, " : "false, ";
  field(j, "shed_connections", m.shed_connections);
  field(j, "refused", m.refused);
  j += "\"accounted\": {";
  by_kind(j, m.accounted);
  j += "}, \"largest\": [";
  for (std::size_t i = 0; i < largest.size(); ++i) {
    const connection_memory& c = largest[i];
    j += i == 0 ? "{\"peer\": " : ", {\"peer\": ";
    string_value(j, c.peer);
    j += ", \"kind\": ";
    string_value(j, c.kind);
    j += ", ";
    by_kind(j, c.bytes);
    j += '}';
  }
  j += "]}, ";
}

}  // namespace ns::serve
