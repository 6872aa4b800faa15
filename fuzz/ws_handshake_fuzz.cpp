// SPDX-License-Identifier: MIT
// NS_FUZZ_LIBS: ns_ws
// Fuzzes the opening-handshake validation and permessage-deflate negotiation on arbitrary
// header values. The input is split at '\n'; each line's first byte picks the header name.
// Invariants: an accepted request has a 28-character accept key and yields a 101 response; a
// negotiated Sec-WebSocket-Extensions answer is itself an acceptable offer with the same
// no_context_takeover choices; rejections give 400/403/426 responses.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "ws/handshake.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

constexpr std::string_view names[] = {"Host",
                                      "Upgrade",
                                      "Connection",
                                      "Sec-WebSocket-Key",
                                      "Sec-WebSocket-Version",
                                      "Sec-WebSocket-Extensions",
                                      "Sec-WebSocket-Protocol",
                                      "Origin"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  ns::http_request req;
  req.method = "GET";
  req.target = "/";
  // Defaults that make a valid request; lines override or add.
  std::vector<ns::http_header> base = {{"Host", "h"},
                                       {"Upgrade", "websocket"},
                                       {"Connection", "Upgrade"},
                                       {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                                       {"Sec-WebSocket-Version", "13"}};
  std::size_t start = 0;
  while (start < input.size()) {
    std::size_t end = input.find('\n', start);
    if (end == std::string::npos) end = input.size();
    const std::string_view line(input.data() + start, end - start);
    if (!line.empty()) {
      const auto which = static_cast<unsigned char>(line[0]);
      const std::string_view name = names[which % std::size(names)];
      const std::string_view value = line.substr(1);
      bool replaced = false;
      if ((which & 0x80) == 0) {
        for (auto& h : base) {
          if (h.name == name) {
            h.value = value;
            replaced = true;
          }
        }
      }
      if (!replaced) base.push_back({name, value});
    }
    start = end + 1;
  }
  req.headers = base;

  ns::ws::handshake_options opts;
  const std::string_view origins[] = {"https://example.com"};
  if (size > 0 && (data[0] & 1) != 0) opts.allowed_origins = origins;
  if (size > 0 && (data[0] & 2) != 0) opts.deflate.shared_compressor = true;
  if (size > 0 && (data[0] & 4) != 0) opts.deflate.server_max_window_bits = 10;

  const ns::ws::handshake_result r = ns::ws::validate_upgrade(req, opts);
  if (r.ok()) {
    check(r.accept_key().size() == 28 && r.accept_key().find('\0') == std::string_view::npos);
    const std::string resp = ns::ws::build_accept_response(
        r, r.subprotocols.empty() ? std::string_view{} : r.subprotocols[0]);
    check(resp.rfind("HTTP/1.1 101 ", 0) == 0);
    if (r.deflate.params.enabled) {
      const auto again = ns::ws::negotiate_deflate(r.deflate.response, {});
      check(again.params.enabled);
      check(again.params.server_no_context_takeover == r.deflate.params.server_no_context_takeover);
      check(again.params.client_no_context_takeover == r.deflate.params.client_no_context_takeover);
      check(again.params.server_max_window_bits == r.deflate.params.server_max_window_bits);
      check(r.deflate.params.server_max_window_bits <= (opts.deflate.server_max_window_bits));
      if (opts.deflate.shared_compressor) check(r.deflate.params.server_no_context_takeover);
    }
  } else {
    check(r.status == 400 || r.status == 403 || r.status == 426);
    check(r.err != ns::ws::handshake_error::none);
    const std::string resp = ns::ws::build_reject_response(r);
    check(resp.rfind("HTTP/1.1 4", 0) == 0);
  }
  // Negotiation on the raw input as one header value, too.
  const auto direct = ns::ws::negotiate_deflate(std::string_view(input), {});
  if (direct.params.enabled) {
    check(direct.params.server_max_window_bits >= 8 && direct.params.server_max_window_bits <= 15);
    check(direct.params.client_max_window_bits >= 8 && direct.params.client_max_window_bits <= 15);
  }
  return 0;
}
