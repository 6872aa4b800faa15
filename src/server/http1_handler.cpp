// SPDX-License-Identifier: MIT
// HTTP/1.1 input: plaintext → parser → http_read_callback, one request at a time; the phase
// clock (idle, header and slow-reader timeouts); and response_done(), the one place where a
// response counts as the answer to the request in hand.
#include <charconv>
#include <cstring>
#include <ctime>

#include "server/clock.hpp"
#include "server/core.hpp"
#include "server/http1_handler.hpp"
#include "server/http2_handler.hpp"
#include "server/log.hpp"

namespace ns::server {
namespace {

// Plaintext held back while a response is owed; a client that pipelines more than this without
// reading its answers is cut off.
constexpr std::size_t max_pipelined_bytes = 1024 * 1024;

std::string_view peer_of_exchange(void* context) {
  return static_cast<transport*>(context)->peer_name();
}

// Heap bytes of a string (a short one lives inside the object).
std::size_t heap_bytes(const std::string& s) noexcept {
  return s.capacity() > std::string().capacity() ? s.capacity() : 0;
}

}  // namespace

std::size_t exchange::footprint() const noexcept {
  std::size_t n = heap_bytes(head) + heap_bytes(stage);
  if (file) {
    n +=
        sizeof(file_transfer) + heap_bytes(file->literal) + file->buf.size + heap_bytes(file->fill);
  }
  return n;
}

void exchange::release() noexcept {
  std::string().swap(head);
  std::string().swap(stage);
  if (file && !file->active && !file->read_in_flight) file.reset();
}

http1_handler::http1_handler(core& c, transport& t) : core_(c), t_(t), parser_(c.config().http) {}

void http1_handler::on_ready() {
  // ALPN chose HTTP/2 (tls_config::http2): the connection is handed to the HTTP/2 handler
  // before any application byte is read. This handler is retired, not freed, until the
  // completion that led here has been handled.
  if (t_.tls && t_.tls->alpn() == "h2") {
    core_.swap_handler(t_, std::make_unique<http2_handler>(core_, t_));
    t_.handler->on_ready();
    return;
  }
  set_phase(phase::idle);
}

void http1_handler::set_phase(phase p) {
  phase_ = p;
  const server_config& cfg = core_.config();
  switch (p) {
    case phase::idle:
      core_.schedule(t_, core_.now_ms() + static_cast<std::uint64_t>(cfg.idle_timeout.count()));
      break;
    case phase::reading:
      core_.schedule(t_, core_.now_ms() + static_cast<std::uint64_t>(cfg.header_timeout.count()));
      break;
    case phase::responding:
      ex_.started_ns = steady_ns();  // the request duration's start (stats.hpp)
      // The application's turn has no deadline, but earlier responses still waiting on the
      // peer (pipelining) keep theirs.
      progress_timer();
      break;
  }
}

void http1_handler::progress_timer() {
  // Progress on the wire restarts the clock: a slow but moving download is never "idle", while a
  // reader that stopped reading is cut off after idle_timeout instead of holding its slot, socket
  // and file for ever (slow-read DoS).
  const bool waiting_on_peer =
      !t_.out.empty() || t_.send_in_flight || (ex_.file && ex_.file->active);
  if (phase_ == phase::idle || waiting_on_peer) {
    core_.schedule(
        t_, core_.now_ms() + static_cast<std::uint64_t>(core_.config().idle_timeout.count()));
  } else if (phase_ == phase::responding) {
    core_.schedule(t_, 0);  // nothing queued: the application's turn, it has no deadline
  }
}

void http1_handler::on_output_pending() {
  // A response being sent waits on the peer: bound that wait.
  if (phase_ == phase::responding && !core_.timer_armed(t_)) progress_timer();
}

void http1_handler::on_timer() {
  switch (phase_) {
    case phase::idle:
      core_.report_error(t_, conn_error::idle_timeout, {}, log_level::debug);
      break;
    case phase::reading:
      core_.report_error(t_, conn_error::header_timeout, {}, log_level::debug);
      break;
    case phase::responding:
      core_.report_error(t_, conn_error::stalled_reader, {}, log_level::debug);
      break;
  }
  core_.close_hard(t_);
}

bool http1_handler::prior_knowledge(std::span<const std::byte>& bytes, bool& more) {
  // RFC 9113 §3.3: on a plaintext listener a client that knows the server speaks HTTP/2 opens
  // with the connection preface. Only the first bytes of a connection are looked at.
  static constexpr std::string_view preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  if (t_.tls || answered_ || phase_ != phase::idle || !core_.config().tls.http2 ||
      (!preface_pending_ && !inbuf_.empty())) {
    return false;
  }
  if (preface_pending_) {
    inbuf_.insert(inbuf_.end(), bytes.begin(), bytes.end());
    bytes = inbuf_;
  }
  const std::size_t n = std::min(bytes.size(), preface.size());
  if (std::memcmp(bytes.data(), preface.data(), n) != 0) {
    if (!preface_pending_) return false;
    preface_pending_ = false;  // not HTTP/2 after all: HTTP/1.1 parses what was held
    parse_buffered();
    more = true;
    return true;
  }
  if (n < preface.size()) {
    if (!preface_pending_) inbuf_.assign(bytes.begin(), bytes.end());
    preface_pending_ = true;
    more = true;
    return true;
  }
  // The HTTP/2 handler takes the connection, preface included; this one is retired.
  std::vector<std::byte> held;
  held.assign(bytes.begin(), bytes.end());
  preface_pending_ = false;
  inbuf_.clear();
  core_.swap_handler(t_, std::make_unique<http2_handler>(core_, t_));
  t_.handler->on_ready();
  more = t_.handler->on_plaintext(held);
  return true;
}

bool http1_handler::on_plaintext(std::span<const std::byte> bytes) {
  if (bool more = true; prior_knowledge(bytes, more)) return more;
  if (ex_.body.active) {
    on_body_plaintext(bytes);  // a streamed body: fed on the application's demand
  } else if (phase_ == phase::responding) {
    hold_pipelined(bytes);
  } else if (!inbuf_.empty()) {
    inbuf_.insert(inbuf_.end(), bytes.begin(), bytes.end());
    parse_buffered();
  } else {
    parse(bytes);
  }
  // Back-pressure on a streamed body: leave the rest encrypted in the session.
  return !(ex_.body.holding() && inbuf_.size() >= body_hold_bytes);
}

bool http1_handler::hold_pipelined(std::span<const std::byte> bytes) {
  // Held until the current response is written.
  if (inbuf_.size() + bytes.size() > max_pipelined_bytes) {
    NS_LOG(log_level::warn, core_.peer_of(t_), ": too many pipelined bytes; closing");
    core_.close_hard(t_);
    return false;
  }
  inbuf_.insert(inbuf_.end(), bytes.begin(), bytes.end());
  return true;
}

void http1_handler::parse(std::span<const std::byte> in) {
  while (t_.open()) {
    const http::parse_result r = parser_.feed(in);
    in = in.subspan(r.consumed);
    switch (r.status) {
      case http::parse_status::need_more:
        // The first bytes of a request switch the clock from idle to header timeout; an empty
        // feed after an answered request does not.
        if (r.consumed > 0 && phase_ == phase::idle) set_phase(phase::reading);
        return;
      case http::parse_status::request_ready:
        ex_.keep_alive = parser_.request().keep_alive && !draining_;
        if (refuse_method()) return;
        ++core_.counters().requests;
        set_phase(phase::responding);
        core_.app().http_read_callback(parser_.request(), t_.handle);
        if (phase_ == phase::responding) {
          // Not answered yet: keep what follows for later.
          inbuf_.insert(inbuf_.end(), in.begin(), in.end());
          return;
        }
        continue;
      case http::parse_status::upgrade:
        ++core_.counters().requests;
        upgrade(in);  // `in`: the bytes after the request (http1_upgrade.cpp)
        return;
      case http::parse_status::expect_continue:
        on_expect_continue();
        continue;
      case http::parse_status::headers_ready_streaming:
        start_body_stream(in);
        return;
      case http::parse_status::error:
        answer_error(parser_.status_code(), http::reason(parser_.error()));
        return;
      default:
        // body_chunk / body_done only follow headers_ready_streaming, whose body http1_body.cpp
        // reads; met here they would break the parser's contract, so the request is refused.
        answer_error(501, "body event outside a streamed body");
        return;
    }
  }
}

void http1_handler::parse_buffered() {
  // Move the buffered bytes out so they are parsed from the start exactly once.
  std::vector<std::byte> pending;
  pending.swap(inbuf_);
  on_plaintext(pending);
  if (inbuf_.empty()) {
    pending.clear();
    inbuf_.swap(pending);  // keep the capacity for the next burst
  }
}

void http1_handler::on_resume() {
  if (ex_.body.active) {
    resume_body();  // http_post_read asked for the next piece (http1_body.cpp)
    return;
  }
  if (!t_.open() || phase_ == phase::responding || inbuf_.empty()) return;
  parse_buffered();
  core_.flush(t_);
}

bool http1_handler::refuse_method() {
  if (parser_.is_supported_method()) return false;
  // RFC 9110 §15.6.2: a method the server does not implement is answered 501 before the
  // application sees it; its body (if any) is not read, so the connection closes.
  answer_error(501,
               std::string("method ").append(parser_.request().method).append(" not implemented"));
  return true;
}

void http1_handler::response_done() {
  if (phase_ != phase::responding) return;
  note_response();  // counters and http_response_log_callback
  // This response answers the request in hand: the next pipelined one may be parsed.
  if (ex_.body.active) ex_.keep_alive = false;  // its unread body cannot be skipped safely
  set_phase(phase::idle);
  answered_ = true;
  // Draining: drain() cleared keep_alive, so a response whose head already said keep-alive
  // still ends the connection.
  if (!ex_.keep_alive) {
    core_.close_graceful(t_);
    return;
  }
  if (!inbuf_.empty()) core_.resume_later(t_);
}

void http1_handler::drain() {
  draining_ = true;
  // A response not formatted yet says Connection: close (http1_respond.cpp, http1_file.cpp).
  if (phase_ == phase::responding || phase_ == phase::reading) ex_.keep_alive = false;
  // Between two requests: closed now. A new connection (nothing answered yet) still gets its
  // one request served: it was accepted, so its client is owed an answer.
  if (phase_ == phase::idle && answered_ && inbuf_.empty() && !ex_.body.active) {
    core_.close_graceful(t_);
  }
}

void http1_handler::note_response() {
  ++core_.counters().responses;
  http_response_info info;
  // 101 is final for an upgrade; another 1xx here was only an interim response.
  info.status = ex_.status >= 200 || ex_.status == 101 ? ex_.status : 0;
  info.bytes = ex_.bytes;
  info.peer = peer_address(&peer_of_exchange, &t_);
  // By status class; a response whose status line was not recognised (raw bytes) is class 0.
  const int status_class = info.status >= 100 && info.status <= 599 ? info.status / 100 : 0;
  core_.counters().histograms.request_seconds[static_cast<std::size_t>(status_class)].observe(
      steady_ns() - ex_.started_ns);
  ex_.status = 0;
  ex_.bytes = 0;
  core_.app().http_response_log_callback(t_.handle, parser_.request(), info);
}

bool http1_handler::put(std::span<const std::byte> bytes) {
  if (phase_ == phase::responding) {
    ex_.bytes += bytes.size();
    // Raw bytes from http_write: "HTTP/1.1 200 …" is the status of this response. An interim
    // 1xx (100 Continue) is not the final answer (RFC 9110 §15.2), so the next one still counts.
    if (ex_.status < 200 && bytes.size() >= 12) {
      const std::string_view text(reinterpret_cast<const char*>(bytes.data()), 12);
      int status = 0;
      if (text.substr(0, 7) == "HTTP/1." && text[8] == ' ') {
        const auto [p, ec] = std::from_chars(text.data() + 9, text.data() + 12, status);
        if (ec == std::errc() && p == text.data() + 12)
          ex_.status = static_cast<std::uint16_t>(status);
      }
    }
  }
  return t_.queue(bytes);
}

std::string_view http1_handler::date() {
  return core_.files().date(static_cast<std::int64_t>(::time(nullptr)));
}

void http1_handler::on_sent() {
  const bool file_active = ex_.file && ex_.file->active;
  // A file response refills the queue as it drains (http1_file.cpp); it keeps its buffers.
  if (file_active) {
    file_pump();
    if (t_.closing) return;
  }
  progress_timer();
  if (!t_.out.empty()) return;
  if (!(ex_.file && ex_.file->active)) t_.out.trim();
  if (phase_ == phase::idle) core_.note_idle(t_);  // frees its buffers if it stays idle
}

void http1_handler::on_completion(io::op_kind kind, const io_uring_cqe& cqe) {
  if (kind == io::op_kind::file_read) on_file_read(cqe);
}

bool http1_handler::quiescent() const noexcept {
  // No partial request (the phase tells; the parser checks its own input), no owed response.
  if (!inbuf_.empty() || ex_.body.active || ex_.long_response()) return false;
  if (ex_.file && ex_.file->read_in_flight) return false;
  return phase_ == phase::idle;
}

bool http1_handler::expendable() const noexcept {
  return quiescent();  // idle: waiting for the first byte of the next request
}

bool http1_handler::movable() const noexcept {
  // Between requests, and still keep-alive (a drain that reached it means close after this).
  return quiescent() && !draining_;
}

void http1_handler::describe_move(handover::connection_state& out) const {
  out.proto = handover::protocol::http1;
}

void http1_handler::release_memory() noexcept {
  parser_.release_storage();
  std::vector<std::byte>().swap(inbuf_);
  ex_.release();
}

void http1_handler::account(memory_by_kind& m) const noexcept {
  m.input += parser_.reserved_bytes() + inbuf_.capacity();
  m.output += ex_.footprint();
}

void http1_handler::report_closed(application_methods& app, client_num_t c) {
  app.http_close_callback(c);
}

}  // namespace ns::server
