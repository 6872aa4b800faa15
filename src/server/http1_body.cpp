// SPDX-License-Identifier: MIT
// Request bodies the application reads piece by piece (http_post_read) and 100-continue.
//
// Back-pressure: while the application has not asked for the next body piece the parser is not
// fed; plaintext waits in the handler's input buffer, and once body_hold_bytes are waiting the
// transport stops decrypting (ciphertext stays in the TLS session) and its multishot recv is
// cancelled, so the kernel's socket buffer fills and TCP flow control stops the client. Asking
// for the next piece resumes all three.
#include <cerrno>

#include "http/response.hpp"
#include "server/core.hpp"
#include "server/http1_handler.hpp"
#include "server/log.hpp"

namespace ns::server {
namespace {

// A client that keeps sending while its body is held is cut off beyond this (the recv is
// cancelled long before; only completions already in flight can add to the hold).
constexpr std::size_t max_held_bytes = 4 * 1024 * 1024;

std::span<const std::byte> as_span(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

}  // namespace

void http1_handler::on_expect_continue() {
  // A body small enough to arrive whole: invite it at once (RFC 9110 §10.1.1); the application
  // sees the request when it is complete.
  if (refuse_method()) return;
  put(http::continue_100);
  core_.flush(t_);
}

void http1_handler::start_body_stream(std::span<const std::byte> rest) {
  ex_.keep_alive = parser_.request().keep_alive;
  if (refuse_method()) return;
  set_phase(phase::responding);
  ex_.body = {};
  ex_.body.active = true;
  ex_.body.continue_owed = parser_.expects_continue();
  if (!core_.app().http_stream_callback(parser_.request(), t_.handle)) {
    ex_.body.wanted = false;
    if (phase_ == phase::responding && t_.open()) {
      // Not taken: too large to be buffered (RFC 9110 §15.5.14).
      answer_error(413, "body too large to buffer, not streamed by the application");
    } else {
      core_.close_graceful(t_);
    }
    ex_.body.active = false;
    return;
  }
  on_body_plaintext(rest);
}

void http1_handler::on_body_plaintext(std::span<const std::byte> bytes) {
  if (!t_.open()) return;
  if (!ex_.body.wanted) {
    if (inbuf_.size() + bytes.size() > max_held_bytes) {
      NS_LOG(log_level::warn, core_.peer_of(t_), ": body held too long; closing");
      core_.close_hard(t_);
      return;
    }
    inbuf_.insert(inbuf_.end(), bytes.begin(), bytes.end());
    if (inbuf_.size() >= body_hold_bytes) core_.pause_recv(t_);
    return;
  }
  if (!inbuf_.empty()) {
    inbuf_.insert(inbuf_.end(), bytes.begin(), bytes.end());
    drain_body_inbuf();
    return;
  }
  feed_body(bytes);
}

void http1_handler::drain_body_inbuf() {
  std::vector<std::byte> pending;
  pending.swap(inbuf_);
  feed_body(pending);
  if (inbuf_.empty()) {
    pending.clear();
    inbuf_.swap(pending);  // keep the capacity
  } else if (inbuf_.capacity() < pending.capacity()) {
    pending.assign(inbuf_.begin(), inbuf_.end());
    inbuf_.swap(pending);
  }
}

void http1_handler::feed_body(std::span<const std::byte> in) {
  const client_num_t c = t_.handle;
  while (ex_.body.active && ex_.body.wanted && t_.open()) {
    const http::parse_result r = parser_.feed(in);
    in = in.subspan(r.consumed);
    if (r.status == http::parse_status::need_more) break;
    if (r.status == http::parse_status::body_chunk) {
      ex_.body.wanted = false;
      core_.app().http_body_callback(c, as_span(r.body), false, false);
      continue;
    }
    if (r.status == http::parse_status::body_done) {
      ex_.body = {};
      core_.unpause_recv(t_);
      core_.app().http_body_callback(c, {}, true, false);
      break;  // what follows is the next request: it waits for the response
    }
    // A malformed chunk or a body over max_body_bytes: answer (unless the application already
    // did) and close; the pending read fails.
    const int status = r.status == http::parse_status::error ? parser_.status_code() : 400;
    ex_.body = {};
    if (phase_ == phase::responding) {
      answer_error(status, std::string("bad request body: ").append(http::reason(parser_.error())));
    } else {
      core_.close_graceful(t_);
    }
    core_.app().http_body_callback(c, {}, true, true);
    return;
  }
  if (in.empty() || !t_.open()) return;
  inbuf_.insert(inbuf_.end(), in.begin(), in.end());
  if (ex_.body.holding() && inbuf_.size() >= body_hold_bytes) core_.pause_recv(t_);
  // Body done and already answered: parse the next request soon.
  if (!ex_.body.active && phase_ != phase::responding) core_.resume_later(t_);
}

void http1_handler::resume_body() {
  if (!t_.open() || !ex_.body.active || !ex_.body.wanted) return;
  if (!inbuf_.empty()) drain_body_inbuf();
  if (ex_.body.active && ex_.body.wanted && t_.open()) {
    core_.redeliver(t_);  // plaintext held back inside the TLS session
  }
  if (!t_.open()) return;
  if (!ex_.body.active || inbuf_.size() < body_hold_bytes) core_.unpause_recv(t_);
  core_.flush(t_);
}

int http1_handler::post_read() {
  if (!ex_.body.active) return -EINVAL;
  if (ex_.body.wanted) return -EBUSY;
  ex_.body.wanted = true;
  if (ex_.body.continue_owed) {
    ex_.body.continue_owed = false;
    put(http::continue_100);
    core_.flush(t_);
  }
  // Delivered from the loop (never from inside this call): held bytes first, then the socket.
  core_.resume_later(t_);
  return 0;
}

void http1_handler::fail_owed() {
  // The queued writes have failed already: what is still owed fails now.
  if (ex_.file) {
    file_transfer& f = *ex_.file;
    const bool owed = f.active;
    f.active = false;
    f.entry.reset();
    f.fd.reset();
    core_.files().give_back(std::move(f.buf));
    if (owed) core_.app().http_writev_callback(t_.handle, true);
  }
  ex_.chunked = {};
  if (ex_.body.wanted) {
    ex_.body = {};
    core_.app().http_body_callback(t_.handle, {}, true, true);
  }
  ex_.body = {};
}

}  // namespace ns::server
