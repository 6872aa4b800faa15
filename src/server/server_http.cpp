// SPDX-License-Identifier: MIT
// Bytes in and out of a connection: ciphertext → tls::session → plaintext → http parser →
// http_read_callback; http_write → tls::session → output queue → send.
//
// Pipelining (RFC 9112 §9.3.2): the parser hands out one request at a time; while the
// application owes its response the connection is in `responding` and further bytes wait in the
// connection's input buffer, so a response is never sent before the one ahead of it.
#include <cerrno>
#include <cstring>

#include "io/listener.hpp"
#include "server/log.hpp"
#include "server/server_impl.hpp"

namespace ns {
namespace {

// Plaintext held back while a response is owed; a client that pipelines more than this without
// reading its answers is cut off.
constexpr std::size_t max_pipelined_bytes = 1024 * 1024;

const char* reason_phrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
  }
}

}  // namespace

void network_server::impl::report_error(client_num_t c, conn& k, std::string_view what,
                                       log_level level) {
  if (k.error_reported) return;
  k.error_reported = true;
  note_error(what);
  NS_LOG(level, io::peer_name(k.fd), ": ", what);
  app_.connection_error_callback(c, what);
}

void network_server::impl::on_ciphertext(client_num_t c, conn& k, std::span<const std::byte> bytes) {
  tls::session& s = *k.tls;
  bool first = !bytes.empty();
  for (;;) {
    const bool was_done = s.handshake_done();
    const tls::read_result r = first ? s.read(bytes, scratch_) : s.read(scratch_);
    first = false;
    drain_tls_output(k);
    if (!was_done && s.handshake_done()) {
      note_handshake(k);
      set_phase(static_cast<std::uint32_t>(c), k, server::conn_phase::idle);
    }
    if (r.st == tls::status::ok) {
      on_plaintext(c, k, std::span<const std::byte>(scratch_.data(), r.bytes));
      if (k.closing || k.close_after_flush) break;
      // Back-pressure on a streamed body: leave the rest encrypted in the session.
      if (k.body.holding() && k.inbuf.size() >= server::body_hold_bytes) break;
      continue;
    }
    if (r.st == tls::status::want_more) break;
    if (r.st == tls::status::closed) {
      // close_notify from the peer: answer with ours (queued by close_graceful) and close.
      close_graceful(c, k);
      break;
    }
    // error / truncated: one line with the peer, then close (an alert may be queued).
    if (r.st == tls::status::truncated) {
      // Between requests this is how many HTTP clients hang up (RFC 9112 §9.8): worth a log
      // line only when it cuts a request or response short.
      const bool mid_exchange = k.phase != server::conn_phase::idle || !k.out.empty();
      report_error(c, k, "TLS truncated: peer closed without close_notify",
                   mid_exchange ? log_level::info : log_level::debug);
    } else {
      report_error(c, k, std::string("TLS ") + (s.handshake_done() ? "" : "handshake ") +
                             "error: " + s.last_error());
    }
    close_graceful(c, k);
    break;
  }
  flush(c, k);
}

void network_server::impl::on_plaintext(client_num_t c, conn& k, std::span<const std::byte> bytes) {
  if (k.ws) {  // upgraded: every byte is WebSocket (server_ws.cpp)
    ws_on_plaintext(c, k, bytes);
    return;
  }
  if (k.body.active) {
    on_body_plaintext(c, k, bytes);  // a streamed body: fed on the application's demand
    return;
  }
  if (k.responding_hold()) {
    // Hold pipelined bytes until the current response is written.
    if (k.inbuf.size() + bytes.size() > max_pipelined_bytes) {
      NS_LOG(log_level::warn, io::peer_name(k.fd), ": too many pipelined bytes; closing");
      close_hard(c, k);
      return;
    }
    k.inbuf.insert(k.inbuf.end(), bytes.begin(), bytes.end());
    return;
  }
  if (!k.inbuf.empty()) {
    k.inbuf.insert(k.inbuf.end(), bytes.begin(), bytes.end());
    parse_buffered(c, k);
    return;
  }
  std::span<const std::byte> in = bytes;
  while (!k.closing && !k.close_after_flush) {
    const http::parse_result r = k.parser.feed(in);
    in = in.subspan(r.consumed);
    const auto slot = static_cast<std::uint32_t>(c);
    switch (r.status) {
      case http::parse_status::need_more:
        // The first bytes of a request switch the clock from idle to header timeout; an empty
        // feed after an answered request does not.
        if (r.consumed > 0 && k.phase == server::conn_phase::idle) {
          set_phase(slot, k, server::conn_phase::reading);
        }
        return;
      case http::parse_status::request_ready: {
        k.keep_alive = k.parser.request().keep_alive;
        if (refuse_method(c, k)) return;
        ++stats_.requests;
        set_phase(slot, k, server::conn_phase::responding);
        app_.http_read_callback(k.parser.request(), c);
        if (k.responding_hold()) {
          // Not answered yet: keep what follows for later.
          k.inbuf.insert(k.inbuf.end(), in.begin(), in.end());
          return;
        }
        continue;
      }
      case http::parse_status::upgrade:
        ++stats_.requests;
        ws_on_upgrade(c, k, in);  // `in`: the bytes after the request (server_ws.cpp)
        return;
      case http::parse_status::expect_continue:
        on_expect_continue(c, k);
        continue;
      case http::parse_status::headers_ready_streaming:
        start_body_stream(c, k, in);
        return;
      case http::parse_status::error:
        NS_LOG(log_level::info, io::peer_name(k.fd), ": bad request (",
               http::reason(k.parser.error()), "); answering ", k.parser.status_code());
        answer_error(c, k, k.parser.status_code());
        return;
      default:
        // body_chunk / body_done only follow headers_ready_streaming, whose body server_body.cpp
        // reads; met here they would break the parser's contract, so the request is refused.
        answer_error(c, k, 501);
        return;
    }
  }
}

void network_server::impl::parse_buffered(client_num_t c, conn& k) {
  // Move the buffered bytes out so on_plaintext parses them from the start exactly once.
  std::vector<std::byte> pending;
  pending.swap(k.inbuf);
  on_plaintext(c, k, pending);
  if (k.inbuf.empty()) {
    pending.clear();
    k.inbuf.swap(pending);  // keep the capacity for the next burst
  }
}

void network_server::impl::resume_pending() {
  while (!to_resume_.empty()) {
    const client_num_t c = to_resume_.back();
    to_resume_.pop_back();
    conn* k = conns_.find(c);
    if (k == nullptr) continue;
    k->resume_listed = false;
    if (k->body.active) {
      resume_body(c, *k);  // http_post_read asked for the next piece (server_body.cpp)
      continue;
    }
    if (k->closing || k->close_after_flush || k->responding_hold() || k->inbuf.empty()) continue;
    parse_buffered(c, *k);
    flush(c, *k);
  }
}

void network_server::impl::answer_error(client_num_t c, conn& k, int status) {
  ++stats_.errors.http;
  char buf[256];
  const char* phrase = reason_phrase(status);
  const int n = std::snprintf(buf, sizeof(buf),
                              "HTTP/1.1 %d %s\r\nServer: network_server\r\nContent-Type: "
                              "text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
                              status, phrase, std::strlen(phrase) + 1, phrase);
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(buf),
                                         static_cast<std::size_t>(n));
  if (k.tls) {
    if (k.tls->handshake_done()) queue_encrypted(c, k, bytes);
  } else {
    queue_plain(k, bytes);
  }
  k.out.mark(server::write_kind::internal);
  close_graceful(c, k);
}

void network_server::impl::queue_plain(conn& k, std::span<const std::byte> bytes) {
  note_output(k, bytes);
  k.out.append(bytes);
}

bool network_server::impl::queue_encrypted(client_num_t, conn& k, std::span<const std::byte> plaintext) {
  note_output(k, plaintext);
  // OpenSSL's records go straight into the output queue (no copy through the session).
  struct queue_sink final : tls::ciphertext_sink {
    server::output_queue& q;
    explicit queue_sink(server::output_queue& out) : q(out) {}
    std::span<std::byte> prepare(std::size_t n) override { return q.prepare(n); }
    void commit(std::size_t n) override { q.commit(n); }
  } sink(k.out);
  const tls::write_result w = k.tls->write(plaintext, sink);
  drain_tls_output(k);
  return w.st == tls::status::ok;
}

void network_server::impl::drain_tls_output(conn& k) {
  const std::size_t n = k.tls->pending_ciphertext();
  if (n == 0) return;
  auto dst = k.out.prepare(n);
  k.out.commit(k.tls->take_ciphertext(dst));
}

int network_server::impl::http_write(client_num_t c, std::span<const iovec> pieces,
                                     server::write_kind kind) {
  conn* k = conns_.find(c);
  if (k == nullptr) return -EBADF;
  if (k->ws) return -EINVAL;  // upgraded: messages go through websocket_write
  if (k->closing || k->close_after_flush) return -EPIPE;
  if (k->long_response()) return -EBUSY;  // would land inside a file or chunked body
  std::size_t total = 0;
  for (const iovec& v : pieces) total += v.iov_len;
  if (k->out.queued() + total > config_.max_queued_output) return -ENOBUFS;
  if (k->tls) {
    if (!k->tls->handshake_done()) return -EAGAIN;
    if (total <= 16 * 1024 && pieces.size() > 1) {
      // One SSL_write for the whole response: fewer, fuller TLS records. Not in scratch_: it
      // still holds the pipelined bytes after the request being answered.
      std::string& stage = files_->stage;
      stage.clear();
      for (const iovec& v : pieces) stage.append(static_cast<const char*>(v.iov_base), v.iov_len);
      const bool ok = queue_encrypted(c, *k, std::as_bytes(std::span(stage.data(), stage.size())));
      stage.clear();
      if (!ok) return -EPIPE;
    } else {
      for (const iovec& v : pieces) {
        if (!queue_encrypted(c, *k, {static_cast<const std::byte*>(v.iov_base), v.iov_len})) {
          return -EPIPE;
        }
      }
    }
  } else {
    for (const iovec& v : pieces) queue_plain(*k, {static_cast<const std::byte*>(v.iov_base), v.iov_len});
  }
  k->out.mark(kind);
  response_done(c, *k);  // this write answers the request in hand (server_body.cpp)
  flush(c, *k);
  return 0;
}

int network_server::impl::http_close(client_num_t c) {
  conn* k = conns_.find(c);
  if (k == nullptr) return -EBADF;
  close_graceful(c, *k);
  return 0;
}

}  // namespace ns
