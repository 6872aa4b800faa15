// SPDX-License-Identifier: MIT
#include "cluster/redis_url.hpp"

#include <charconv>

namespace ns::cluster {
namespace {

// The longest unix socket path (sun_path is 108 bytes with its terminating NUL).
constexpr std::size_t max_unix_path = 107;
constexpr unsigned long max_db = 2147483647;  // Redis takes a signed 32-bit index

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (in.size() - i < 3) return false;
    const int hi = hex_value(in[i + 1]);
    const int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

bool parse_number(std::string_view text, unsigned long max, unsigned long& out) {
  if (text.empty()) return false;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size() && out <= max;
}

// "[user]:password" or "password"-less "user@": Redis' own URL form puts the password after the
// colon; a userinfo without a colon is a password alone (redis-cli's -u reads it so too).
bool parse_userinfo(std::string_view info, redis_endpoint& out, std::string& error) {
  const auto colon = info.find(':');
  const std::string_view user = colon == std::string_view::npos ? "" : info.substr(0, colon);
  const std::string_view pass = colon == std::string_view::npos ? info : info.substr(colon + 1);
  if (!percent_decode(user, out.user) || !percent_decode(pass, out.password)) {
    error = "a bad %-escape in the user or password";
    return false;
  }
  if (out.password.empty()) {
    error = "a user without a password (write user:password@)";
    return false;
  }
  return true;
}

bool parse_tcp(std::string_view rest, redis_endpoint& out, std::string& error) {
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  const auto at = authority.rfind('@');
  if (at != std::string_view::npos) {
    if (!parse_userinfo(authority.substr(0, at), out, error)) return false;
    authority = authority.substr(at + 1);
  }
  std::string_view host = authority;
  std::string_view port;
  const bool bracketed = authority.starts_with('[');
  if (bracketed) {  // [IPv6]:port
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "an IPv6 address without its closing ']'";
      return false;
    }
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) {
      error = "unexpected characters after the IPv6 address";
      return false;
    }
    if (!after.empty()) port = after.substr(1);
    if (after == ":") port = "-";  // an empty port after ':' is an error below
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) port = "-";
  }
  if (host.empty()) {
    error = "no host (expected redis://host[:port][/db])";
    return false;
  }
  if (host.find_first_of(bracketed ? " \t\r\n?#@[]" : " \t\r\n?#@[]:") != std::string_view::npos) {
    error = "a host name with characters a host cannot have";
    return false;
  }
  out.host = std::string(host);
  if (!port.empty()) {
    unsigned long n = 0;
    if (!parse_number(port, 65535, n) || n == 0) {
      error = "the port is not a number between 1 and 65535";
      return false;
    }
    out.port = static_cast<std::uint16_t>(n);
  }
  if (!path.empty()) {
    unsigned long n = 0;
    if (!parse_number(path, max_db, n)) {
      error = "the database (after '/') is not a number between 0 and 2147483647";
      return false;
    }
    out.db = static_cast<unsigned>(n);
  }
  return true;
}

bool parse_unix(std::string_view rest, redis_endpoint& out, std::string& error) {
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) {
    error = "no socket path (expected unix:///path/redis.sock)";
    return false;
  }
  if (slash > 0) {
    const std::string_view info = rest.substr(0, slash);
    if (!info.ends_with('@')) {
      error = "a unix socket URL names no host (expected unix:///path/redis.sock)";
      return false;
    }
    if (!parse_userinfo(info.substr(0, info.size() - 1), out, error)) return false;
  }
  std::string_view path = rest.substr(slash);
  std::string_view query;
  if (const auto q = path.find('?'); q != std::string_view::npos) {
    query = path.substr(q + 1);
    path = path.substr(0, q);
  }
  if (path.size() < 2 || path.size() > max_unix_path) {
    error = "the socket path is empty or longer than 107 bytes";
    return false;
  }
  out.unix_path = std::string(path);
  if (!query.empty()) {
    unsigned long n = 0;
    if (!query.starts_with("db=") || !parse_number(query.substr(3), max_db, n)) {
      error = "the query is not db=N (a number between 0 and 2147483647)";
      return false;
    }
    out.db = static_cast<unsigned>(n);
  }
  return true;
}

}  // namespace

std::string redis_endpoint::describe() const {
  std::string s = is_unix() ? "unix://" : "redis://";
  if (!user.empty()) s += user + "@";
  if (is_unix()) {
    s += unix_path;
    if (db != 0) s += "?db=" + std::to_string(db);
    return s;
  }
  s += host.find(':') == std::string::npos ? host : "[" + host + "]";
  s += ":" + std::to_string(port);
  if (db != 0) s += "/" + std::to_string(db);
  return s;
}

bool parse_redis_url(std::string_view url, redis_endpoint& out, std::string& error) {
  out = redis_endpoint{};
  const auto sep = url.find("://");
  const std::string_view scheme = sep == std::string_view::npos ? "" : url.substr(0, sep);
  const std::string_view rest = sep == std::string_view::npos ? "" : url.substr(sep + 3);
  bool ok = false;
  if (scheme == "redis") {
    ok = parse_tcp(rest, out, error);
  } else if (scheme == "unix") {
    ok = parse_unix(rest, out, error);
  } else if (scheme == "rediss") {
    error = "rediss:// (TLS to Redis) is not supported; use redis:// or unix://";
  } else {
    error = "expected redis://[user:password@]host[:port][/db] or unix:///path/redis.sock";
  }
  if (!ok) out = redis_endpoint{};
  return ok;
}

}  // namespace ns::cluster
