// SPDX-License-Identifier: MIT
#include "server/transport.hpp"

#include "io/listener.hpp"
#include "server/handler.hpp"

namespace ns::server {

transport::~transport() = default;

bool transport::queue(std::span<const std::byte> plaintext) {
  if (!tls) {
    out.append(plaintext);
    return true;
  }
  // The session's records go straight into the output queue (no copy through the session).
  struct queue_sink final : tls::ciphertext_sink {
    output_queue& q;
    explicit queue_sink(output_queue& o) : q(o) {}
    std::span<std::byte> prepare(std::size_t n) override { return q.prepare(n); }
    void commit(std::size_t n) override { q.commit(n); }
  } sink(out);
  const tls::write_result w = tls->write(plaintext, sink);
  drain_tls_output();
  return w.st == tls::status::ok;
}

void transport::drain_tls_output() {
  const std::size_t n = tls->pending_ciphertext();
  if (n == 0) return;
  auto dst = out.prepare(n);
  out.commit(tls->take_ciphertext(dst));
}

std::string_view transport::peer_name() {
  if (peer.empty() && fd >= 0) peer = io::peer_name(fd);
  return peer;
}

}  // namespace ns::server
