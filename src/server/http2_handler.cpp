// SPDX-License-Identifier: MIT
// HTTP/2 input and the life of a stream: plaintext → http2::session → request events → the
// application; the output pump (session frames → TLS records, only while the transport's queue
// is below send_low_water); timers; draining; the close path's obligations.
#include "server/http2_handler.hpp"

#include <algorithm>
#include <cstring>
#include <ctime>

#include "server/clock.hpp"
#include "server/core.hpp"
#include "server/log.hpp"
#include "server/stream_handle.hpp"

namespace ns::server {
namespace {

http2::settings settings_of(const server_config& cfg) {
  http2::settings s;
  // RFC 9113 §6.5.2: the header list size counts name + value + 32 per field; the HTTP/1.1
  // limit on header bytes bounds the same thing.
  s.max_header_list_size = static_cast<std::uint32_t>(
      std::min<std::size_t>(cfg.http.max_header_bytes + cfg.http.max_request_line, 1u << 24));
  // Not yet: a browser that sees ENABLE_CONNECT_PROTOCOL opens its WebSockets as extended
  // CONNECT streams on this connection (RFC 8441), which this handler does not carry yet;
  // without it, browsers open them over HTTP/1.1 as before.
  s.enable_connect_protocol = false;
  return s;
}

std::string_view peer_of_stream(void* context) {
  return static_cast<transport*>(context)->peer_name();
}

}  // namespace

client_num_t h2_stream::handle(client_num_t conn) const noexcept {
  return stream_handle(conn, tag);
}

http2_handler::http2_handler(core& c, transport& t)
    : core_(c), t_(t), session_(settings_of(c.config()), *this) {}

http2_handler::~http2_handler() = default;

void http2_handler::on_ready() {
  pump();  // the server's SETTINGS go first (RFC 9113 §3.4)
  progress_timer();
}

bool http2_handler::on_plaintext(std::span<const std::byte> bytes) {
  if (failed_) return true;
  in_session_ = true;
  const http2::feed_result r = session_.feed(bytes);
  in_session_ = false;
  if (!r.ok) {
    failed_ = true;
    core_.report_error(t_, conn_error::bad_request, std::string("http2: ").append(r.error));
  }
  pump();
  // A new request waiting on the application lifts the idle deadline; other frames leave the
  // deadline as it is.
  if (t_.open() && (!core_.timer_armed(t_) || (!streams_.empty() && idle_armed_))) {
    progress_timer();
  }
  return true;
}

h2_stream* http2_handler::by_id(std::int32_t id) noexcept {
  for (auto& s : streams_) {
    if (s->id == id) return s.get();
  }
  return nullptr;
}

h2_stream* http2_handler::by_tag(std::uint32_t tag) noexcept {
  for (auto& s : streams_) {
    if (s->tag == tag && !s->closed) return s.get();
  }
  return nullptr;
}

const h2_stream* http2_handler::by_tag(std::uint32_t tag) const noexcept {
  for (const auto& s : streams_) {
    if (s->tag == tag && !s->closed) return s.get();
  }
  return nullptr;
}

std::uint32_t http2_handler::next_tag() {
  // At most max_concurrent_streams (100) tags are held at once out of 4095, so a free one is
  // always found; a handle of a finished stream meets a new stream only after ~4000 more.
  for (;;) {
    last_tag_ = last_tag_ % max_stream_tag + 1;
    const bool taken = std::any_of(streams_.begin(), streams_.end(),
                                   [&](const auto& s) { return s->tag == last_tag_; }) ||
                       (reading_ && reading_->tag == last_tag_);
    if (!taken) return last_tag_;
  }
}

void http2_handler::on_request(std::int32_t stream, const http2::request_head& head) {
  auto s = std::make_unique<h2_stream>();
  s->id = stream;
  s->tag = next_tag();
  // One string holds every view of the request: sized first, so it never moves.
  std::size_t bytes = head.method.size() + head.path.size() + head.authority.size();
  for (const http2::field& f : head.fields) bytes += f.name.size() + f.value.size();
  s->storage.reserve(bytes);
  auto keep = [&](std::string_view v) {
    const std::size_t at = s->storage.size();
    s->storage.append(v);
    return std::string_view(s->storage).substr(at, v.size());
  };
  http_request& r = s->req;
  r.method = keep(head.method);
  // CONNECT has no :path (RFC 9113 §8.5); the extended CONNECT of RFC 8441 does.
  r.target = keep(head.path.empty() ? head.authority : head.path);
  r.version_major = 2;
  r.version_minor = 0;
  r.keep_alive = true;
  r.upgrade = !head.protocol.empty();
  bool has_host = false;
  r.headers.reserve(head.fields.size() + 1);
  for (const http2::field& f : head.fields) {
    if (f.name == "host") has_host = true;
    r.headers.push_back({keep(f.name), keep(f.value)});
  }
  // RFC 9113 §8.3.1: :authority stands for Host; applications written for HTTP/1.1 read Host.
  if (!has_host && !head.authority.empty()) {
    r.headers.push_back({"host", keep(head.authority)});
  }
  s->ex.started_ns = steady_ns();
  h2_stream& ref = *s;
  streams_.push_back(std::move(s));
  if (head.end_stream) deliver(ref);
}

void http2_handler::on_body(std::int32_t stream, std::span<const std::byte> piece) {
  h2_stream* s = by_id(stream);
  if (s == nullptr || s->body_refused) return;
  const std::size_t limit = core_.config().http.max_body_bytes;
  // Bodies arrive whole (not streamed yet), so what a connection holds of them is bounded
  // too: all its streams together, like one body (100 streams must not hold 100 bodies).
  if (s->body.size() + piece.size() > limit || body_held_ + piece.size() > limit) {
    // RFC 9110 §15.5.14; the rest of the body is dropped as it comes (flow control still
    // acknowledges it, as nghttp2 does for every DATA frame).
    s->body_refused = true;
    body_held_ -= std::min(body_held_, s->body.size());
    std::string().swap(s->body);
    const http2::field f[] = {{"content-type", "text/plain"}};
    s->out = "request body too large\n";
    pending_bytes_ += s->out.size();
    s->ended = true;
    s->ex.status = 413;
    start_response(*s, 413, f, true);
    return;
  }
  s->body.append(reinterpret_cast<const char*>(piece.data()), piece.size());
  body_held_ += piece.size();
}

void http2_handler::on_body_end(std::int32_t stream) {
  h2_stream* s = by_id(stream);
  if (s != nullptr && !s->body_refused && !s->delivered) deliver(*s);
}

void http2_handler::deliver(h2_stream& s) {
  s.req.body = s.body;
  s.delivered = true;
  ++core_.counters().requests;
  core_.app().http_read_callback(s.req, s.handle(t_.handle));
}

int http2_handler::start_response(h2_stream& s, int status, std::span<const http2::field> fields,
                                  bool has_body) {
  s.responded = true;
  s.ex.status = static_cast<std::uint16_t>(status);
  const int rv = session_.respond(s.id, status, fields, has_body);
  if (rv != 0) return -EINVAL;
  pump();
  if (t_.open()) progress_timer();
  return 0;
}

http2::body_chunk http2_handler::read_body(std::int32_t stream, std::span<std::byte> out) {
  h2_stream* s = by_id(stream);
  if (s == nullptr) return {0, true, false};
  if (s->out_off < s->out.size()) {
    const std::size_t n = std::min(out.size(), s->out.size() - s->out_off);
    std::memcpy(out.data(), s->out.data() + s->out_off, n);
    s->out_off += n;
    s->ex.bytes += n;
    body_out_ += n;
    pending_bytes_ -= std::min(pending_bytes_, n);
    if (s->out_off == s->out.size()) {
      s->out.clear();
      s->out_off = 0;
    }
    const bool file = s->ex.file && s->ex.file->active;
    return {n, s->ended && !file && s->out.empty(), false};
  }
  if (s->ex.file && s->ex.file->active) return read_file(*s, out);
  if (s->ended) return {0, true, false};
  return {0, false, true};  // a chunked response waits for its next chunk
}

void http2_handler::on_stream_closed(std::int32_t stream, http2::error_code code) {
  auto it = std::find_if(streams_.begin(), streams_.end(),
                         [&](const auto& s) { return s->id == stream; });
  if (it == streams_.end()) return;
  std::unique_ptr<h2_stream> s = std::move(*it);
  streams_.erase(it);
  s->closed = true;
  finish(std::move(s), code != http2::error_code::no_error);
}

void http2_handler::finish(std::unique_ptr<h2_stream> s, bool failed) {
  pending_bytes_ -= std::min(pending_bytes_, s->out.size() - s->out_off);
  body_held_ -= std::min(body_held_, s->body.size());
  const bool complete = s->responded && s->ended && !failed && !(s->ex.file && s->ex.file->active);
  if (s->responded && s->delivered) {
    if (complete) note_response(*s);
    // The application's write callback: its response left (or never will).
    application_methods& app = core_.app();
    const client_num_t h = s->handle(t_.handle);
    if (s->kind == write_kind::http_writev) {
      app.http_writev_callback(h, !complete);
    } else {
      app.http_write_callback(h, !complete);
    }
  }
  if (s->delivered) core_.app().http_close_callback(s->handle(t_.handle));
  if (s->ex.file) {
    file_transfer& f = *s->ex.file;
    f.active = false;
    f.fd.reset();
    if (f.read_in_flight) {
      reading_ = std::move(s);  // the read's buffer stays lent until its completion
      return;
    }
  }
  if (s->buf) core_.files().give_back(std::move(s->buf));
}

void http2_handler::note_response(h2_stream& s) {
  ++core_.counters().responses;
  http_response_info info;
  info.status = s.ex.status;
  info.bytes = s.ex.bytes;
  info.peer = peer_address(&peer_of_stream, &t_);
  const int status_class = info.status >= 100 && info.status <= 599 ? info.status / 100 : 0;
  core_.counters().histograms.request_seconds[static_cast<std::size_t>(status_class)].observe(
      steady_ns() - s.ex.started_ns);
  core_.app().http_response_log_callback(s.handle(t_.handle), s.req, info);
}

void http2_handler::pump() {
  // Inside the session's own callbacks (an application answering from http_read_callback)
  // the session is not re-entered: on_plaintext pumps once feed() returns.
  if (t_.closing || in_session_) return;
  const std::size_t low_water = core_.files().config().send_low_water;
  in_session_ = true;
  while (t_.open() && t_.out.queued() < low_water) {
    const std::span<const std::byte> bytes = session_.take_output();
    if (bytes.empty()) break;
    if (!t_.queue(bytes)) {
      in_session_ = false;
      core_.close_hard(t_);
      return;
    }
  }
  in_session_ = false;
  t_.out.mark(write_kind::internal);
  core_.flush(t_);
  if (t_.open() && (failed_ || session_.finished()) && t_.out.empty() && !t_.send_in_flight) {
    core_.close_graceful(t_);
  } else if (t_.open() && failed_ && !session_.want_write()) {
    core_.close_graceful(t_);  // GOAWAY queued: close after it
  }
}

bool http2_handler::waiting_on_peer() const noexcept {
  // A response held back by a closed flow-control window waits on the peer too, though
  // nothing is queued: a client that never opens its window (the HTTP/2 slow reader) is cut
  // off like one that stops reading.
  const bool response_owed = std::any_of(streams_.begin(), streams_.end(), [](const auto& s) {
    return s->responded && !s->closed &&
           (s->ended || s->out_off < s->out.size() || (s->ex.file && s->ex.file->active));
  });
  return !t_.out.empty() || t_.send_in_flight || session_.want_write() || response_owed;
}

void http2_handler::progress_timer() {
  // No stream: the idle timeout, counted from when the connection went idle (frames such as
  // PING do not extend it). Streams with responses waiting on the peer: the same timeout,
  // restarted by response bytes leaving. Streams waiting on the application only: no
  // deadline, as on HTTP/1.1.
  if (streams_.empty()) {
    if (!idle_armed_) {
      idle_armed_ = true;
      core_.schedule(
          t_, core_.now_ms() + static_cast<std::uint64_t>(core_.config().idle_timeout.count()));
    }
    return;
  }
  idle_armed_ = false;
  if (waiting_on_peer()) {
    core_.schedule(
        t_, core_.now_ms() + static_cast<std::uint64_t>(core_.config().idle_timeout.count()));
  } else {
    core_.schedule(t_, 0);
  }
}

void http2_handler::on_output_pending() {
  if (!core_.timer_armed(t_)) progress_timer();
}

void http2_handler::on_sent() {
  pump();
  if (t_.closing) return;
  // Only response bytes count as progress: control frames (PING and SETTINGS answers) leave
  // whether or not the peer reads its responses.
  if (body_out_ != body_out_seen_ || streams_.empty() || !core_.timer_armed(t_)) {
    body_out_seen_ = body_out_;
    progress_timer();
  }
  if (t_.out.empty() && streams_.empty()) t_.out.trim();
}

void http2_handler::on_timer() {
  if (streams_.empty()) {
    core_.report_error(t_, conn_error::idle_timeout, {}, log_level::debug);
    session_.go_away(http2::error_code::no_error);
    pump();
    core_.close_graceful(t_);
    return;
  }
  if (!waiting_on_peer()) {
    progress_timer();  // every stream waits on the application, which has no deadline
    return;
  }
  core_.report_error(t_, conn_error::stalled_reader, {}, log_level::debug);
  core_.close_hard(t_);
}

void http2_handler::on_completion(io::op_kind kind, const io_uring_cqe& cqe) {
  if (kind == io::op_kind::file_read) on_file_read(cqe);
}

void http2_handler::drain() {
  // RFC 9113 §6.8: GOAWAY tells the client which streams will be answered; those in flight
  // finish, new ones are refused, and the connection closes when the session is done.
  if (draining_) return;
  draining_ = true;
  session_.finish_streams();
  pump();
}

void http2_handler::going_away() {
  drain();
}

bool http2_handler::quiescent() const noexcept {
  return streams_.empty() && !reading_ && read_stream_ == 0;
}

bool http2_handler::expendable() const noexcept {
  return quiescent();
}

void http2_handler::release_memory() noexcept {
  // The session's own tables (HPACK) stay: they are state the peer relies on.
}

void http2_handler::account(memory_by_kind& m) const noexcept {
  for (const auto& s : streams_) {
    m.input += s->storage.capacity() + s->body.capacity() + sizeof(h2_stream);
    m.output += s->out.capacity() + s->ex.footprint() + s->buf.size;
  }
}

void http2_handler::fail_owed() {
  // The connection ends: every stream the application holds ends with it.
  while (!streams_.empty()) {
    std::unique_ptr<h2_stream> s = std::move(streams_.back());
    streams_.pop_back();
    s->closed = true;
    finish(std::move(s), true);
  }
}

void http2_handler::report_closed(application_methods& app, client_num_t c) {
  app.http_close_callback(c);
}

bool http2_handler::head_request(const h2_stream& s) const noexcept {
  return s.req.method == "HEAD";
}

std::string_view http2_handler::date() {
  return core_.files().date(static_cast<std::int64_t>(::time(nullptr)));
}

}  // namespace ns::server
