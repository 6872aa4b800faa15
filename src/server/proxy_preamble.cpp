// SPDX-License-Identifier: MIT
// The PROXY protocol stage of a transport (doc/proxy-protocol.txt). At accept, a peer outside
// the trusted networks is closed before it costs a slot; a trusted one gets a parser, and its
// first bytes go through it until the header is complete: then the header's client becomes
// the transport's peer (peer_address, log lines, the access log) and the bytes after the header
// go on to TLS or the plaintext handler. A malformed header, an EOF before its end, or none
// within the handshake timeout (loop.cpp on_timer) closes the connection. All of it is off the
// path of a listener without PROXY: there the transport's parser pointer is null.
#include "server/proxy_preamble.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include "server/core.hpp"
#include "server/log.hpp"

namespace ns {
namespace server {

std::unique_ptr<proxy_policy> make_proxy_policy(const proxy_protocol_config& cfg) {
  if (cfg.mode == proxy_protocol_mode::off) return nullptr;
  auto p = std::make_unique<proxy_policy>();
  p->mode = cfg.mode == proxy_protocol_mode::v1   ? proxy::version_mode::v1
            : cfg.mode == proxy_protocol_mode::v2 ? proxy::version_mode::v2
                                                  : proxy::version_mode::any;
  for (const std::string& n : cfg.trusted) {
    std::string error;
    if (!p->trusted.add(n, error)) {
      throw std::invalid_argument("proxy_protocol.trusted: " + error);
    }
  }
  if (p->trusted.empty()) {
    // Trusting nobody would refuse every connection; trusting everybody would let any client
    // claim any address (§2). Neither is a configuration anyone means.
    throw std::invalid_argument(
        "proxy_protocol.trusted is empty: name the proxies' networks (e.g. 127.0.0.0/8)");
  }
  return p;
}

}  // namespace server

bool network_server::impl::refuse_untrusted(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  proxy::endpoint peer;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    peer = proxy::from_sockaddr(ss);
  }
  if (proxy_->trusted.contains(peer)) return false;
  ++server::counter_of(stats_.errors, server::conn_error::proxy_untrusted);
  NS_LOG(log_level::info, peer.fam == proxy::family::none ? "?" : proxy::to_string(peer), ": ",
         server::describe(server::conn_error::proxy_untrusted, {}));
  ::close(fd);
  return true;
}

void network_server::impl::take_preamble(transport& t, std::span<const std::byte>& bytes) {
  const proxy::result r = t.preamble->feed(bytes);
  if (r.st == proxy::status::need_more) {
    bytes = {};
    return;
  }
  if (r.st == proxy::status::error) {
    bytes = {};
    report_error(t, server::conn_error::proxy_header, proxy::reason(t.preamble->err()));
    close_hard(t);  // nothing was sent yet, nothing to flush
    return;
  }
  const proxy::header& h = t.preamble->get();
  if (!h.local) t.peer = proxy::to_string(h.source);
  t.preamble.reset();
  bytes = bytes.subspan(r.consumed);
  // Plaintext: the handler starts now (and takes over the deadline); TLS: the handshake that
  // follows still runs under the handshake timeout armed at accept.
  if (!t.tls) on_transport_ready(t);
}

void network_server::impl::preamble_eof(transport& t) {
  const std::size_t got = t.preamble->buffered();
  report_error(t, server::conn_error::proxy_truncated,
               "closed after " + std::to_string(got) + " byte(s)",
               got > 0 ? log_level::info : log_level::debug);
}

}  // namespace ns
