// SPDX-License-Identifier: MIT
// Request bodies the application reads piece by piece (http_post_read), 100-continue, the 501
// for unsupported methods, chunked responses, and response_done(): the one place where a
// response counts as the answer to the request in hand.
//
// Back-pressure: while the application has not asked for the next body piece the parser is not
// fed; plaintext waits in the connection's input buffer, and once body_hold_bytes are waiting
// the server stops decrypting (ciphertext stays in the TLS session) and cancels the multishot
// recv, so the kernel's socket buffer fills and TCP flow control stops the client. Asking for
// the next piece resumes all three.
#include <cerrno>
#include <cstring>
#include <ctime>

#include "http/response.hpp"
#include "io/listener.hpp"
#include "server/log.hpp"
#include "server/server_impl.hpp"

namespace ns {
namespace {

// A client that keeps sending while its body is held is cut off beyond this (the recv is
// cancelled long before; only completions already in flight can add to the hold).
constexpr std::size_t max_held_bytes = 4 * 1024 * 1024;

std::span<const std::byte> as_span(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

bool valid_field(std::string_view s) {
  return s.find_first_of("\r\n") == std::string_view::npos;
}

}  // namespace

void network_server::impl::response_done(client_num_t c, conn& k) {
  if (k.phase != server::conn_phase::responding) return;
  note_response(c, k);  // counters and http_response_log_callback (server_stats.cpp)
  // This response answers the request in hand: the next pipelined one may be parsed.
  if (k.body.active) k.keep_alive = false;  // its unread body cannot be skipped safely
  set_phase(static_cast<std::uint32_t>(c), k, server::conn_phase::idle);
  if (!k.keep_alive) {
    close_graceful(c, k);
    return;
  }
  if (!k.inbuf.empty() && !k.resume_listed) {
    k.resume_listed = true;
    to_resume_.push_back(c);
  }
}

bool network_server::impl::refuse_method(client_num_t c, conn& k) {
  if (k.parser.is_supported_method()) return false;
  // RFC 9110 §15.6.2: a method the server does not implement is answered 501 before the
  // application sees it; its body (if any) is not read, so the connection closes.
  NS_LOG(log_level::info, io::peer_name(k.fd), ": method ", k.parser.request().method,
         " not implemented; answering 501");
  answer_error(c, k, 501);
  return true;
}

void network_server::impl::on_expect_continue(client_num_t c, conn& k) {
  // A body small enough to arrive whole: invite it at once (RFC 9110 §10.1.1); the application
  // sees the request when it is complete.
  if (refuse_method(c, k)) return;
  queue_out(c, k, as_span(http::continue_100));
  flush(c, k);
}

void network_server::impl::start_body_stream(client_num_t c, conn& k,
                                             std::span<const std::byte> rest) {
  k.keep_alive = k.parser.request().keep_alive;
  if (refuse_method(c, k)) return;
  set_phase(static_cast<std::uint32_t>(c), k, server::conn_phase::responding);
  k.body = {};
  k.body.active = true;
  k.body.continue_owed = k.parser.expects_continue();
  if (!app_.http_stream_callback(k.parser.request(), c)) {
    k.body.wanted = false;
    if (k.phase == server::conn_phase::responding && !k.closing && !k.close_after_flush) {
      answer_error(c, k, 413);  // not taken: too large to be buffered (RFC 9110 §15.5.14)
    } else {
      close_graceful(c, k);
    }
    k.body.active = false;
    return;
  }
  on_body_plaintext(c, k, rest);
}

void network_server::impl::on_body_plaintext(client_num_t c, conn& k,
                                             std::span<const std::byte> bytes) {
  if (k.closing || k.close_after_flush) return;
  if (!k.body.wanted) {
    if (k.inbuf.size() + bytes.size() > max_held_bytes) {
      NS_LOG(log_level::warn, io::peer_name(k.fd), ": body held too long; closing");
      close_hard(c, k);
      return;
    }
    k.inbuf.insert(k.inbuf.end(), bytes.begin(), bytes.end());
    if (k.inbuf.size() >= server::body_hold_bytes) pause_recv(c, k);
    return;
  }
  if (!k.inbuf.empty()) {
    k.inbuf.insert(k.inbuf.end(), bytes.begin(), bytes.end());
    drain_body_inbuf(c, k);
    return;
  }
  feed_body(c, k, bytes);
}

void network_server::impl::drain_body_inbuf(client_num_t c, conn& k) {
  std::vector<std::byte> pending;
  pending.swap(k.inbuf);
  feed_body(c, k, pending);
  if (k.inbuf.empty()) {
    pending.clear();
    k.inbuf.swap(pending);  // keep the capacity
  } else if (k.inbuf.capacity() < pending.capacity()) {
    pending.assign(k.inbuf.begin(), k.inbuf.end());
    k.inbuf.swap(pending);
  }
}

void network_server::impl::feed_body(client_num_t c, conn& k, std::span<const std::byte> in) {
  while (k.body.active && k.body.wanted && !k.closing && !k.close_after_flush) {
    const http::parse_result r = k.parser.feed(in);
    in = in.subspan(r.consumed);
    if (r.status == http::parse_status::need_more) break;
    if (r.status == http::parse_status::body_chunk) {
      k.body.wanted = false;
      app_.http_body_callback(c, as_span(r.body), false, false);
      continue;
    }
    if (r.status == http::parse_status::body_done) {
      k.body = {};
      unpause_recv(c, k);
      app_.http_body_callback(c, {}, true, false);
      break;  // what follows is the next request: it waits for the response
    }
    // A malformed chunk or a body over max_body_bytes: answer (unless the application already
    // did) and close; the pending read fails.
    const int status = r.status == http::parse_status::error ? k.parser.status_code() : 400;
    k.body = {};
    if (k.phase == server::conn_phase::responding) {
      NS_LOG(log_level::info, io::peer_name(k.fd), ": bad request body (",
             http::reason(k.parser.error()), "); answering ", status);
      answer_error(c, k, status);
    } else {
      close_graceful(c, k);
    }
    app_.http_body_callback(c, {}, true, true);
    return;
  }
  if (in.empty() || k.closing || k.close_after_flush) return;
  k.inbuf.insert(k.inbuf.end(), in.begin(), in.end());
  if (k.body.holding() && k.inbuf.size() >= server::body_hold_bytes) pause_recv(c, k);
  if (!k.body.active && !k.responding_hold() && !k.resume_listed) {
    // Body done and already answered: parse the next request soon.
    k.resume_listed = true;
    to_resume_.push_back(c);
  }
}

void network_server::impl::resume_body(client_num_t c, conn& k) {
  if (k.closing || k.close_after_flush || !k.body.active || !k.body.wanted) return;
  if (!k.inbuf.empty()) drain_body_inbuf(c, k);
  if (k.body.active && k.body.wanted && k.tls && !k.closing && !k.close_after_flush) {
    on_ciphertext(c, k, {});  // plaintext held back inside the TLS session
  }
  if (k.closing || k.close_after_flush) return;
  if (!k.body.active || k.inbuf.size() < server::body_hold_bytes) unpause_recv(c, k);
  flush(c, k);
}

void network_server::impl::pause_recv(client_num_t c, conn& k) {
  if (k.body.recv_paused || k.closing) return;
  k.body.recv_paused = true;
  if (!k.recv_armed) return;
  io_uring_sqe* sqe = sqe_for(c, io::op_kind::cancel);
  if (sqe == nullptr) return;  // the hold bound still applies; recv stays armed
  io_uring_prep_cancel64(sqe,
                         io::encode({io::op_kind::recv, static_cast<std::uint32_t>(c >> 32),
                                     static_cast<std::uint32_t>(c)}),
                         0);
  ++k.inflight;  // the cancel's own completion (dispatch's default case counts it down)
}

void network_server::impl::unpause_recv(client_num_t c, conn& k) {
  if (!k.body.recv_paused) return;
  k.body.recv_paused = false;
  if (!k.closing) arm_recv(c, k);
}

int network_server::impl::http_post_read(client_num_t c) {
  conn* k = conns_.find(c);
  if (k == nullptr || k->kind != server::conn_kind::http) return -EBADF;
  if (k->closing || k->close_after_flush) return -EPIPE;
  if (!k->body.active) return -EINVAL;
  if (k->body.wanted) return -EBUSY;
  k->body.wanted = true;
  if (k->body.continue_owed) {
    k->body.continue_owed = false;
    queue_out(c, *k, as_span(http::continue_100));
    flush(c, *k);
  }
  // Delivered from the loop (never from inside this call): held bytes first, then the socket.
  if (!k->resume_listed) {
    k->resume_listed = true;
    to_resume_.push_back(c);
  }
  return 0;
}

// ---- chunked responses (RFC 9112 §7.1) ----------------------------------------------------

int network_server::impl::http_begin_chunked(client_num_t c, int status,
                                             std::span<const http_header> headers) {
  conn* k = conns_.find(c);
  if (k == nullptr || k->kind != server::conn_kind::http) return -EBADF;
  if (k->closing || k->close_after_flush) return -EPIPE;
  if (k->ws) return -EINVAL;  // upgraded: HTTP responses no longer apply
  if (k->tls && !k->tls->handshake_done()) return -EAGAIN;
  if (k->long_response()) return -EBUSY;
  if (status < 200 || status > 999) return -EINVAL;
  for (const http_header& h : headers) {
    if (h.name.empty() || !valid_field(h.name) || !valid_field(h.value)) return -EINVAL;
  }
  const http_request& req = k->parser.request();
  server::chunked_response& ch = k->chunked;
  ch = {};
  ch.no_body = req.method == "HEAD" || status == 204 || status == 304;
  // HTTP/1.0 has no chunked coding: the body is delimited by closing (RFC 9112 §6.3).
  ch.framed = !(req.version_major == 1 && req.version_minor == 0);
  if (!ch.framed) k->keep_alive = false;
  if (k->body.active) k->keep_alive = false;
  std::string& head = files_->head;
  head.clear();
  http::response_writer w(head);
  w.start(status, files_->date(static_cast<std::int64_t>(::time(nullptr))));
  for (const http_header& h : headers) w.header(h.name, h.value);
  if (ch.framed && status != 204 && status != 304) w.chunked();
  w.keep_alive(k->keep_alive).end();
  const bool ok = queue_out(c, *k, as_span(head));
  k->out.mark(server::write_kind::http_write);
  if (!ok) {
    close_hard(c, *k);
    return 0;
  }
  ch.open = true;
  flush(c, *k);
  return 0;
}

int network_server::impl::http_write_chunk(client_num_t c, std::span<const std::byte> data) {
  conn* k = conns_.find(c);
  if (k == nullptr || k->kind != server::conn_kind::http) return -EBADF;
  if (k->closing || k->close_after_flush) return -EPIPE;
  if (!k->chunked.open) return -EINVAL;
  if (k->out.queued() + data.size() > config_.max_queued_output) return -ENOBUFS;
  bool ok = true;
  if (!k->chunked.no_body && !data.empty()) {
    if (!k->chunked.framed) {
      ok = queue_out(c, *k, data);
    } else {
      std::string& stage = files_->stage;
      stage.clear();
      http::append_chunk_header(stage, data.size());
      if (data.size() <= 16 * 1024) {
        // One TLS record for size line, data and CRLF.
        stage.append(reinterpret_cast<const char*>(data.data()), data.size());
        stage.append(http::chunk_end);
        ok = queue_out(c, *k, as_span(stage));
      } else {
        ok = queue_out(c, *k, as_span(stage)) && queue_out(c, *k, data) &&
             queue_out(c, *k, as_span(http::chunk_end));
      }
      stage.clear();
    }
  }
  k->out.mark(server::write_kind::http_write);
  if (!ok) {
    close_hard(c, *k);
    return 0;
  }
  flush(c, *k);
  return 0;
}

int network_server::impl::http_end_chunked(client_num_t c) {
  conn* k = conns_.find(c);
  if (k == nullptr || k->kind != server::conn_kind::http) return -EBADF;
  if (k->closing || k->close_after_flush) return -EPIPE;
  if (!k->chunked.open) return -EINVAL;
  const server::chunked_response ch = k->chunked;
  k->chunked = {};
  const bool ok = !ch.framed || ch.no_body || queue_out(c, *k, as_span(http::last_chunk));
  k->out.mark(server::write_kind::http_write);
  if (!ok) {
    close_hard(c, *k);
    return 0;
  }
  response_done(c, *k);
  flush(c, *k);
  return 0;
}

}  // namespace ns
