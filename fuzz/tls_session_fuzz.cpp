// SPDX-License-Identifier: MIT
// NS_FUZZ_LIBS: ns_tls
// libFuzzer harness for tls::session in the server role. The input (after its first byte) is
// ciphertext from an untrusted client, fed in chunks whose size the first byte picks (uWS
// makeChunked style), so record and handshake-message reassembly across arbitrary splits is
// exercised. Invariants checked after every call:
//  - never more plaintext out than ciphertext in; `ok` always carries bytes, other statuses none;
//  - terminal statuses are sticky and `error` always comes with a message;
//  - OpenSSL's per-thread error queue is empty after every call (no leak into other sessions);
//  - after transport EOF a read never says `want_more`.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include <openssl/err.h>

#include "tls/context.hpp"
#include "tls/self_signed.hpp"
#include "tls/session.hpp"

namespace {

using ns::tls::status;

#define NS_CHECK(cond)    \
  do {                    \
    if (!(cond)) abort(); \
  } while (0)

const std::shared_ptr<const ns::tls::context>& server_ctx() {
  static const auto ctx = ns::tls::context::server_from_pem({ns::tls::make_self_signed()});
  return ctx;
}

bool terminal(status s) {
  return s == status::closed || s == status::truncated || s == status::error;
}

struct checker {
  ns::tls::session s{server_ctx()};
  std::size_t fed = 0;
  std::size_t plain = 0;
  status done = status::ok;  // terminal status once seen

  void drain() {
    std::byte out[512];
    const std::size_t pending = s.pending_ciphertext();
    NS_CHECK(s.peek_ciphertext().size() == pending);
    std::size_t taken = 0;
    while (std::size_t n = s.take_ciphertext(out)) taken += n;
    NS_CHECK(taken == pending && s.pending_ciphertext() == 0);
  }

  void read_all() {
    std::byte buf[1024];
    for (;;) {
      const ns::tls::read_result r = s.read(buf);
      NS_CHECK(ERR_peek_error() == 0);
      NS_CHECK(r.bytes <= sizeof buf);
      drain();
      if (r.st == status::ok) {
        NS_CHECK(r.bytes > 0);
        plain += r.bytes;
        NS_CHECK(plain <= fed);
        continue;
      }
      NS_CHECK(r.bytes == 0);
      if (done != status::ok) NS_CHECK(r.st == done);  // sticky
      if (terminal(r.st)) {
        done = r.st;
        if (r.st == status::error) NS_CHECK(!s.last_error().empty());
      }
      return;
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = data[0] == 0 ? size : data[0];
  // Exact-size heap copy so ASan catches any over-read.
  std::unique_ptr<std::byte[]> input(new std::byte[size - 1]);
  if (size > 1) std::memcpy(input.get(), data + 1, size - 1);
  const std::span<const std::byte> all(input.get(), size - 1);

  (void)ns::tls::looks_like_plain_http(all);
  checker c;
  for (std::size_t off = 0; off < all.size() && c.done == status::ok; off += chunk) {
    const auto piece = all.subspan(off, std::min(chunk, all.size() - off));
    c.fed += piece.size();
    if ((off / chunk) % 2 == 0) {  // alternate the copying and the zero-copy input paths
      c.s.feed(piece);
    } else {
      std::byte buf[256];
      const ns::tls::read_result r = c.s.read(piece, buf);
      NS_CHECK(ERR_peek_error() == 0);
      NS_CHECK(r.st == status::ok ? r.bytes > 0 : r.bytes == 0);
      c.plain += r.bytes;
      NS_CHECK(c.plain <= c.fed);
      c.drain();
      if (terminal(r.st)) c.done = r.st;
    }
    c.read_all();
  }
  if (c.s.handshake_done() && c.done == status::ok) {
    static constexpr char reply[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
    const auto w = c.s.write(std::as_bytes(std::span(reply)));
    NS_CHECK(w.st == status::ok || w.st == status::error);
    c.drain();
  }
  c.s.shutdown();
  NS_CHECK(ERR_peek_error() == 0);
  c.drain();
  c.s.on_transport_eof();
  c.read_all();
  NS_CHECK(c.done != status::ok);  // EOF always ends the session one way or another
  return 0;
}
