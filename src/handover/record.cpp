// SPDX-License-Identifier: MIT
#include "handover/record.hpp"

#include <algorithm>

#include "handover/connection_state.hpp"

namespace ns::handover {
namespace {

constexpr std::size_t listener_size = 1 + 2 + 16;  // family, port, ip (IPv4 in the first 4)

void put16(std::vector<std::byte>& o, std::uint16_t v) {
  o.push_back(std::byte(v >> 8));
  o.push_back(std::byte(v & 0xff));
}
void put32(std::vector<std::byte>& o, std::uint32_t v) {
  put16(o, static_cast<std::uint16_t>(v >> 16));
  put16(o, static_cast<std::uint16_t>(v & 0xffff));
}
std::uint16_t get16(const std::byte* p) {
  return static_cast<std::uint16_t>((std::to_integer<unsigned>(p[0]) << 8) |
                                    std::to_integer<unsigned>(p[1]));
}
std::uint32_t get32(const std::byte* p) {
  return (static_cast<std::uint32_t>(get16(p)) << 16) | get16(p + 2);
}

}  // namespace

std::vector<std::byte> encode(const record& r) {
  std::vector<std::byte> payload;
  switch (r.type) {
    case record_type::hello:
      put32(payload, r.pid);
      break;
    case record_type::listeners:
      put16(payload, static_cast<std::uint16_t>(r.listeners.size()));
      for (const listener_address& l : r.listeners) {
        payload.push_back(std::byte(l.family));
        put16(payload, l.port);
        for (std::uint8_t b : l.ip) payload.push_back(std::byte(b));
      }
      break;
    case record_type::ready:
      put16(payload, r.count);
      break;
    case record_type::refused:
      for (char c : r.text.substr(0, max_text)) payload.push_back(std::byte(c));
      break;
    case record_type::released:
      break;
    case record_type::connection:
      put32(payload, r.id);
      payload.insert(payload.end(), r.state.begin(), r.state.end());
      break;
    case record_type::adopted:
      put32(payload, r.id);
      payload.push_back(std::byte(r.ok ? 1 : 0));
      break;
  }
  std::vector<std::byte> out;
  out.reserve(header_size + payload.size());
  put32(out, magic);
  put16(out, version);
  put16(out, static_cast<std::uint16_t>(r.type));
  put32(out, static_cast<std::uint32_t>(payload.size()));
  out.insert(out.end(), payload.begin(), payload.end());
  wipe(payload);  // a connection record holds traffic secrets
  return out;
}

decode_status decoder::fail(std::string why) {
  failed_ = true;
  error_ = std::move(why);
  wipe(buf_);  // a connection record holds traffic secrets
  buf_.clear();
  return decode_status::error;
}

bool decoder::reject(std::string why) {
  fail(std::move(why));
  return false;
}

decode_status decoder::feed(std::span<const std::byte>& in, record& out) {
  if (failed_) return decode_status::error;
  // Take the header first, then exactly the payload it announces: never past this record.
  const std::size_t want_header = header_size > buf_.size() ? header_size - buf_.size() : 0;
  std::size_t take = std::min(want_header, in.size());
  buf_.insert(buf_.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(take));
  in = in.subspan(take);
  if (buf_.size() < header_size) return decode_status::need_more;
  if (get32(buf_.data()) != magic) return fail("not a hand-over record (bad magic)");
  if (const std::uint16_t v = get16(buf_.data() + 4); v != version) {
    return fail("hand-over version " + std::to_string(v) + ", this one speaks " +
                std::to_string(version));
  }
  const std::uint32_t length = get32(buf_.data() + 8);
  if (length > max_payload) return fail("hand-over record of " + std::to_string(length) + " bytes");
  take = std::min<std::size_t>(header_size + length - buf_.size(), in.size());
  buf_.insert(buf_.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(take));
  in = in.subspan(take);
  if (buf_.size() < header_size + length) return decode_status::need_more;
  if (!parse(out)) return decode_status::error;
  wipe(buf_);  // a connection record holds traffic secrets
  buf_.clear();
  return decode_status::ready;
}

bool decoder::parse(record& out) {
  const std::uint16_t type = get16(buf_.data() + 6);
  const std::byte* p = buf_.data() + header_size;
  const std::size_t n = buf_.size() - header_size;
  out = record{};
  switch (static_cast<record_type>(type)) {
    case record_type::hello:
      if (n != 4) return reject("hello record of " + std::to_string(n) + " bytes, not 4");
      out.type = record_type::hello;
      out.pid = get32(p);
      return true;
    case record_type::ready:
      if (n != 2) return reject("ready record of " + std::to_string(n) + " bytes, not 2");
      out.type = record_type::ready;
      out.count = get16(p);
      return true;
    case record_type::refused:
      if (n > max_text) return reject("refused record text of " + std::to_string(n) + " bytes");
      out.type = record_type::refused;
      out.text.assign(reinterpret_cast<const char*>(p), n);
      return true;
    case record_type::released:
      if (n != 0) return reject("released record of " + std::to_string(n) + " bytes, not 0");
      out.type = record_type::released;
      return true;
    case record_type::connection:
      if (n < 4) return reject("connection record without an id");
      out.type = record_type::connection;
      out.id = get32(p);
      out.state.assign(p + 4, p + n);
      return true;
    case record_type::adopted:
      if (n != 5 || std::to_integer<unsigned>(p[4]) > 1) {
        return reject("adopted record of " + std::to_string(n) + " bytes, not 5 with ok 0 or 1");
      }
      out.type = record_type::adopted;
      out.id = get32(p);
      out.ok = std::to_integer<unsigned>(p[4]) == 1;
      return true;
    case record_type::listeners: {
      if (n < 2) return reject("listeners record without a count");
      const std::size_t count = get16(p);
      if (count > max_listeners || n != 2 + count * listener_size) {
        return reject("listeners record of " + std::to_string(n) + " bytes for " +
                      std::to_string(count) + " listener(s)");
      }
      out.type = record_type::listeners;
      for (std::size_t i = 0; i < count; ++i) {
        const std::byte* l = p + 2 + i * listener_size;
        listener_address a;
        a.family = std::to_integer<std::uint8_t>(l[0]);
        a.port = get16(l + 1);
        for (std::size_t b = 0; b < a.ip.size(); ++b)
          a.ip[b] = std::to_integer<std::uint8_t>(l[3 + b]);
        // An IPv4 address leaves the last 12 bytes zero: one encoding per address.
        const bool v4_clean =
            std::all_of(a.ip.begin() + 4, a.ip.end(), [](auto b) { return b == 0; });
        if ((a.family != 4 && a.family != 6) || (a.family == 4 && !v4_clean)) {
          return reject("listener " + std::to_string(i) + ": bad address family " +
                        std::to_string(a.family));
        }
        out.listeners.push_back(a);
      }
      return true;
    }
  }
  return reject("unknown hand-over record type " + std::to_string(type));
}

}  // namespace ns::handover
