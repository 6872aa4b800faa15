// SPDX-License-Identifier: MIT
#include "ws/handshake.hpp"

#include <openssl/evp.h>

#include <cstring>

#include "http/response.hpp"

namespace ns::ws {

namespace {

constexpr std::string_view websocket_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // §1.3

char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls f(element) for each trimmed, non-empty element of the comma lists in every header
// named @p name (RFC 9110 §5.6.1 list syntax; repeated fields concatenate).
template <typename F>
void for_each_list_element(const http_request& req, std::string_view name, F&& f) {
  for (const auto& h : req.headers) {
    if (!iequals(h.name, name)) continue;
    std::string_view v = h.value;
    while (!v.empty()) {
      const std::size_t comma = v.find(',');
      const std::string_view e = trim(v.substr(0, comma));
      if (!e.empty()) f(e);
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
}

bool list_contains(const http_request& req, std::string_view name, std::string_view token) {
  bool found = false;
  for_each_list_element(req, name, [&](std::string_view e) { found = found || iequals(e, token); });
  return found;
}

bool is_base64_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

}  // namespace

std::string_view reason(handshake_error e) noexcept {
  switch (e) {
    case handshake_error::none:
      return "no error";
    case handshake_error::not_get:
      return "WebSocket upgrade requires GET";
    case handshake_error::bad_http_version:
      return "WebSocket upgrade requires HTTP/1.1 or later";
    case handshake_error::missing_host:
      return "missing Host header";
    case handshake_error::missing_upgrade:
      return "Upgrade header lacks the websocket token";
    case handshake_error::missing_connection:
      return "Connection header lacks the Upgrade token";
    case handshake_error::bad_key:
      return "Sec-WebSocket-Key is not base64 of 16 bytes";
    case handshake_error::unsupported_version:
      return "Sec-WebSocket-Version must be 13";
    case handshake_error::origin_not_allowed:
      return "Origin not allowed";
  }
  return "unknown error";
}

bool is_valid_key(std::string_view key) noexcept {
  // 16 bytes encode to 22 significant characters plus "==" padding (RFC 4648 §4).
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
  for (std::size_t i = 0; i < 22; ++i) {
    if (!is_base64_char(key[i])) return false;
  }
  return true;
}

std::array<char, 28> compute_accept(std::string_view key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  // GCOVR_EXCL_BR_START: SHA-1 over memory fails only on allocation failure, or in an OpenSSL
  // configured with no provider of SHA-1 (neither default nor FIPS: no TLS handshake works
  // there either); its digest is always 20 bytes.
  bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr) == 1 &&
            EVP_DigestUpdate(ctx, key.data(), key.size()) == 1 &&
            EVP_DigestUpdate(ctx, websocket_guid.data(), websocket_guid.size()) == 1 &&
            EVP_DigestFinal_ex(ctx, digest, &digest_len) == 1;
  EVP_MD_CTX_free(ctx);
  std::array<char, 28> out{};
  if (!ok || digest_len != 20) return out;
  // GCOVR_EXCL_BR_STOP
  unsigned char b64[29];
  EVP_EncodeBlock(b64, digest, 20);  // 20 bytes → 28 chars + NUL
  std::memcpy(out.data(), b64, 28);
  return out;
}

handshake_result validate_upgrade(const http_request& req, const handshake_options& opts) {
  handshake_result r;
  const auto fail = [&r](handshake_error e, int status) -> handshake_result& {
    r.err = e;
    r.status = status;
    return r;
  };
  if (req.method != "GET") return fail(handshake_error::not_get, 400);
  if (req.version_major < 1 || (req.version_major == 1 && req.version_minor < 1)) {
    return fail(handshake_error::bad_http_version, 400);
  }
  if (req.header("Host").empty()) return fail(handshake_error::missing_host, 400);
  if (!list_contains(req, "Upgrade", "websocket"))
    return fail(handshake_error::missing_upgrade, 400);
  if (!list_contains(req, "Connection", "Upgrade")) {
    return fail(handshake_error::missing_connection, 400);
  }
  // §4.4: an unsupported version gets 426 with the versions we speak; checked before the key
  // so that a client probing versions learns about 13.
  if (trim(req.header("Sec-WebSocket-Version")) != "13") {
    return fail(handshake_error::unsupported_version, 426);
  }
  const std::string_view key = trim(req.header("Sec-WebSocket-Key"));
  if (!is_valid_key(key)) return fail(handshake_error::bad_key, 400);
  if (!opts.allowed_origins.empty() &&
      !origin_allowed(req.header("Origin"), opts.allowed_origins)) {
    return fail(handshake_error::origin_not_allowed, 403);
  }
  for_each_list_element(req, "Sec-WebSocket-Protocol",
                        [&r](std::string_view e) { r.subprotocols.push_back(e); });
  std::string_view ext_values[8];
  std::size_t n_ext = 0;
  for (const auto& h : req.headers) {
    if (n_ext < std::size(ext_values) && iequals(h.name, "Sec-WebSocket-Extensions")) {
      ext_values[n_ext++] = h.value;
    }
  }
  r.deflate = negotiate_deflate(std::span<const std::string_view>(ext_values, n_ext), opts.deflate);
  r.accept = compute_accept(key);
  r.status = 101;
  return r;
}

std::string build_accept_response(const handshake_result& result, std::string_view subprotocol) {
  std::string s;
  s.reserve(160 + subprotocol.size() + result.deflate.response.size());
  http::response_writer w(s);
  w.status_line(101).header("Upgrade", "websocket").header("Connection", "Upgrade");
  w.header("Sec-WebSocket-Accept", result.accept_key());
  if (!subprotocol.empty()) w.header("Sec-WebSocket-Protocol", subprotocol);
  if (result.deflate.params.enabled) w.header("Sec-WebSocket-Extensions", result.deflate.response);
  w.end();
  return s;
}

std::string build_reject_response(const handshake_result& result) {
  const int status = result.status == 426 || result.status == 403 ? result.status : 400;
  const std::string_view body = reason(result.err);
  std::string s;
  http::response_writer w(s);
  w.status_line(status);
  if (status == 426) w.header("Sec-WebSocket-Version", "13");
  w.header("Content-Type", "text/plain").keep_alive(false).content_length(body.size() + 1).end();
  s += body;
  s += "\n";
  return s;
}

bool origin_allowed(std::string_view origin, std::span<const std::string_view> allowed) noexcept {
  if (origin.empty()) return false;
  for (std::string_view a : allowed) {
    if (iequals(origin, a)) return true;
  }
  return false;
}

}  // namespace ns::ws
