// SPDX-License-Identifier: MIT
// The WebSocket upgrade (RFC 6455 §4.2) of an HTTP/1.1 request: validated by ws::handshake,
// decided by websocket_upgrade_callback, answered 101 — and then this handler gives the
// transport to a ws_handler, with the bytes that followed the request.
#include <algorithm>

#include "http/response.hpp"
#include "server/clock.hpp"
#include "server/core.hpp"
#include "server/http1_handler.hpp"
#include "server/log.hpp"
#include "server/ws_handler.hpp"
#include "ws/handshake.hpp"

namespace ns::server {
namespace {

// True if the comma-separated header value @p v has the token @p tok (ASCII case-insensitive).
bool has_token(std::string_view v, std::string_view tok) {
  while (!v.empty()) {
    const std::size_t comma = v.find(',');
    std::string_view t = v.substr(0, comma);
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    if (t.size() == tok.size() && std::equal(t.begin(), t.end(), tok.begin(), [](char a, char b) {
          return (a >= 'A' && a <= 'Z' ? a + 32 : a) == (b >= 'A' && b <= 'Z' ? b + 32 : b);
        })) {
      return true;
    }
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

void http1_handler::refuse_upgrade(int status, std::string_view response) {
  // Upgrade answers are queued outside the responding phase: the access log hears of them here.
  std::string& head = ex_.head;
  if (response.empty()) {
    head.clear();
    http::response_writer(head).start(status, date()).content_length(0).keep_alive(false).end();
    response = head;
  }
  ex_.status = static_cast<std::uint16_t>(status);
  ex_.bytes = response.size();
  note_response();
  put(response);
  t_.out.mark(write_kind::internal);
  core_.close_graceful(t_);
}

void http1_handler::upgrade(std::span<const std::byte> rest) {
  ex_.started_ns = steady_ns();  // the request duration's start (stats.hpp)
  const http_request& req = parser_.request();
  if (!has_token(req.header("Upgrade"), "websocket")) {
    if (req.method == "CONNECT") {
      answer_error(501, "CONNECT (no tunnelling)");
      return;
    }
    // Another protocol (h2c, …): RFC 9110 §7.8 lets a server ignore Upgrade, so the request is
    // answered as a plain one. The connection closes after that response: the parser stopped
    // at the upgrade and what the client sends next may already be in the other protocol.
    ex_.keep_alive = false;
    set_phase(phase::responding);
    core_.app().http_read_callback(req, t_.handle);
    return;
  }
  ws_shared& shared = core_.ws_resources();
  const websocket_config& wc = core_.config().websocket;
  ws::handshake_options ho;
  ho.deflate.enabled = wc.deflate != ws_deflate_mode::off;
  ho.deflate.shared_compressor = wc.deflate == ws_deflate_mode::shared;
  ho.allowed_origins = shared.origins;
  const ws::handshake_result hs = ws::validate_upgrade(req, ho);
  if (!hs.ok()) {
    NS_LOG(log_level::info, core_.peer_of(t_), ": WebSocket upgrade refused (", ws::reason(hs.err),
           "); answering ", hs.status);
    const std::string resp = ws::build_reject_response(hs);
    refuse_upgrade(hs.status, resp);
    return;
  }
  ws_accept_decision d = core_.app().websocket_upgrade_callback(req, t_.handle);
  if (!t_.open()) return;  // the application closed it meanwhile
  if (!d.accept) {
    refuse_upgrade(d.reject_status >= 400 && d.reject_status <= 599 ? d.reject_status : 404);
    return;
  }
  if (!d.subprotocol.empty() && std::find(hs.subprotocols.begin(), hs.subprotocols.end(),
                                          d.subprotocol) == hs.subprotocols.end()) {
    // §4.2.2: the server may only select one of the client's offers.
    NS_LOG(log_level::warn, "websocket_upgrade_callback chose subprotocol '", d.subprotocol,
           "' that the client did not offer; none is confirmed");
    d.subprotocol.clear();
  }
  const std::string resp = ws::build_accept_response(hs, d.subprotocol);
  if (!put(resp)) {
    core_.close_graceful(t_);
    return;
  }
  t_.out.mark(write_kind::internal);
  ex_.status = 101;
  ex_.bytes = resp.size();
  note_response();  // access log

  const ws::connection_options o = websocket_options(core_, hs.deflate.params);
  NS_LOG(log_level::debug, core_.peer_of(t_), ": WebSocket open ", req.target,
         o.deflate.enabled ? (o.shared_compressor ? " (deflate, shared)" : " (deflate)") : "");
  // From here on this handler is retired: touch nothing of it.
  transport& t = t_;
  core& loop = core_;
  auto ws = std::make_unique<ws_handler>(loop, t, o);
  ws_handler& w = *ws;
  loop.swap_handler(t, std::move(ws));
  w.start();
  loop.app().websocket_open_callback(t.handle);
  if (!rest.empty() && t.open()) w.on_plaintext(rest);
}

}  // namespace ns::server
