// SPDX-License-Identifier: MIT
// nghttp2's server session behind http2::session: the callbacks that turn frames into request
// events, and the calls that turn responses into frames. nghttp2 does HPACK, framing, flow
// control and the RFC 9113 checks (pseudo-header fields, forbidden connection-specific fields,
// stream states, SETTINGS/PING flood limits); what is ours is the header list limit, the shape
// of a request and the mapping of responses.
#include "http2/session.hpp"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <stdexcept>

#include "http2/ascii.hpp"

namespace ns::http2 {
namespace {

constexpr std::string_view pseudo_names[] = {":method", ":scheme", ":authority", ":path",
                                             ":protocol"};

nghttp2_nv make_nv(std::string_view name, std::string_view value) noexcept {
  // NGHTTP2_NV_FLAG_NONE: nghttp2 copies both (submit_* copy the array), so the strings need
  // only live for the call.
  return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
          value.size(), NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

struct callbacks {
  static session& self(void* user) { return *static_cast<session*>(user); }

  static int begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    session& s = self(user);
    auto& f = s.heads_.emplace_back();
    f.id = frame->hd.stream_id;
    return 0;
  }

  static int header(nghttp2_session* ns, const nghttp2_frame* frame, const std::uint8_t* name,
                    std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                    std::uint8_t, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    session& s = self(user);
    session::stream_fields* f = s.fields_for(frame->hd.stream_id);
    if (f == nullptr || f->refused) return 0;
    // RFC 9113 §6.5.2: the size of a field is its name and value plus 32 octets.
    f->list_bytes += namelen + valuelen + 32;
    if (f->list_bytes > s.settings_.max_header_list_size) {
      f->refused = true;
      f->storage.clear();
      f->ends.clear();
      // The block is still decoded to the end (the HPACK table must stay in step); the stream
      // is reset, not answered: there is no request to answer.
      nghttp2_submit_rst_stream(ns, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                                NGHTTP2_ENHANCE_YOUR_CALM);
      return 0;
    }
    f->storage.append(reinterpret_cast<const char*>(name), namelen);
    f->ends.push_back(static_cast<std::uint32_t>(f->storage.size()));
    f->storage.append(reinterpret_cast<const char*>(value), valuelen);
    f->ends.push_back(static_cast<std::uint32_t>(f->storage.size()));
    return 0;
  }

  static int frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    session& s = self(user);
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS:
        if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
          session::stream_fields* f = s.fields_for(frame->hd.stream_id);
          if (f != nullptr && !f->refused) s.emit_request(*f, end_stream);
          s.forget_fields(frame->hd.stream_id);
        } else if (end_stream) {
          s.ev_.on_body_end(frame->hd.stream_id);  // trailers end the body; their fields unused
        }
        break;
      case NGHTTP2_DATA:
        if (end_stream) s.ev_.on_body_end(frame->hd.stream_id);
        break;
      default:
        break;
    }
    return 0;
  }

  static int data_chunk(nghttp2_session*, std::uint8_t, std::int32_t stream,
                        const std::uint8_t* data, std::size_t len, void* user) {
    self(user).ev_.on_body(stream, {reinterpret_cast<const std::byte*>(data), len});
    return 0;
  }

  static int stream_close(nghttp2_session*, std::int32_t stream, std::uint32_t code, void* user) {
    session& s = self(user);
    s.forget_fields(stream);
    s.ev_.on_stream_closed(stream, static_cast<error_code>(code));
    return 0;
  }

  static ssize_t read_body(nghttp2_session*, std::int32_t stream, std::uint8_t* buf,
                           std::size_t length, std::uint32_t* flags, nghttp2_data_source*,
                           void* user) {
    const body_chunk c =
        self(user).ev_.read_body(stream, {reinterpret_cast<std::byte*>(buf), length});
    if (c.deferred && c.bytes == 0 && !c.eof) return NGHTTP2_ERR_DEFERRED;
    if (c.eof) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(std::min(c.bytes, length));
  }
};

session::session(const settings& st, events& ev) : settings_(st), ev_(ev) {
  nghttp2_session_callbacks* cb = nullptr;
  if (nghttp2_session_callbacks_new(&cb) != 0) throw std::bad_alloc();
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb, &callbacks::begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cb, &callbacks::header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, &callbacks::frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, &callbacks::data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, &callbacks::stream_close);
  // nghttp2 refuses streams beyond the max_concurrent_streams we submit even before the peer
  // acknowledges the SETTINGS (it checks the pending value).
  const int rv = nghttp2_session_server_new(&s_, cb, this);
  nghttp2_session_callbacks_del(cb);
  if (rv != 0) throw std::bad_alloc();
  std::array<nghttp2_settings_entry, 4> iv{{
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, st.max_concurrent_streams},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, st.max_header_list_size},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, st.initial_window_size},
      {NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1},
  }};
  const std::size_t n = st.enable_connect_protocol ? iv.size() : iv.size() - 1;
  nghttp2_submit_settings(s_, NGHTTP2_FLAG_NONE, iv.data(), n);
}

session::~session() {
  nghttp2_session_del(s_);
}

session::stream_fields* session::fields_for(std::int32_t stream) {
  for (auto& f : heads_) {
    if (f.id == stream) return &f;
  }
  return nullptr;
}

void session::forget_fields(std::int32_t stream) {
  std::erase_if(heads_, [stream](const stream_fields& f) { return f.id == stream; });
}

void session::emit_request(stream_fields& f, bool end_stream) {
  request_head head;
  std::string_view* pseudo[] = {&head.method, &head.scheme, &head.authority, &head.path,
                                &head.protocol};
  scratch_.clear();
  const std::string_view all = f.storage;
  std::uint32_t at = 0;
  for (std::size_t i = 0; i + 1 < f.ends.size(); i += 2) {
    const std::string_view name = all.substr(at, f.ends[i] - at);
    const std::string_view value = all.substr(f.ends[i], f.ends[i + 1] - f.ends[i]);
    at = f.ends[i + 1];
    if (!name.empty() && name[0] == ':') {
      for (std::size_t k = 0; k < std::size(pseudo_names); ++k) {
        if (name == pseudo_names[k]) *pseudo[k] = value;
      }
      continue;
    }
    scratch_.push_back({name, value});
  }
  head.fields = scratch_;
  head.end_stream = end_stream;
  ev_.on_request(f.id, head);
}

feed_result session::feed(std::span<const std::byte> in) {
  const ssize_t rv =
      nghttp2_session_mem_recv(s_, reinterpret_cast<const std::uint8_t*>(in.data()), in.size());
  if (rv < 0) {
    error_ = nghttp2_strerror(static_cast<int>(rv));
    return {false, error_};
  }
  return {};
}

std::span<const std::byte> session::take_output() {
  const std::uint8_t* data = nullptr;
  const ssize_t n = nghttp2_session_mem_send(s_, &data);
  if (n < 0) {
    error_ = nghttp2_strerror(static_cast<int>(n));
    return {};
  }
  return {reinterpret_cast<const std::byte*>(data), static_cast<std::size_t>(n)};
}

int session::respond(std::int32_t stream, int status, std::span<const field> fields,
                     bool has_body) {
  if (status < 100 || status > 999) return NGHTTP2_ERR_INVALID_ARGUMENT;
  std::array<char, 4> code{};
  std::to_chars(code.data(), code.data() + 3, status);
  // Names in lowercase (RFC 9113 §8.2.1: uppercase is malformed), gathered in one string
  // first so the views stay put.
  names_.clear();
  for (const field& f : fields) {
    for (const char c : f.name) names_.push_back(ascii_lower(c));
  }
  std::vector<nghttp2_nv> nv;
  nv.reserve(fields.size() + 1);
  nv.push_back(make_nv(":status", std::string_view(code.data(), 3)));
  std::size_t at = 0;
  for (const field& f : fields) {
    const std::string_view name(names_.data() + at, f.name.size());
    at += f.name.size();
    if (name.empty() || name[0] == ':' || connection_specific(name)) continue;
    nv.push_back(make_nv(name, f.value));
  }
  nghttp2_data_provider prd{};
  prd.read_callback = &callbacks::read_body;
  return nghttp2_submit_response(s_, stream, nv.data(), nv.size(), has_body ? &prd : nullptr);
}

int session::inform(std::int32_t stream, int status) {
  if (status < 100 || status > 199) return NGHTTP2_ERR_INVALID_ARGUMENT;
  std::array<char, 4> code{};
  std::to_chars(code.data(), code.data() + 3, status);
  const nghttp2_nv nv = make_nv(":status", std::string_view(code.data(), 3));
  return nghttp2_submit_headers(s_, NGHTTP2_FLAG_NONE, stream, nullptr, &nv, 1, nullptr);
}

void session::resume(std::int32_t stream) {
  nghttp2_session_resume_data(s_, stream);
}

void session::reset(std::int32_t stream, error_code code) {
  nghttp2_submit_rst_stream(s_, NGHTTP2_FLAG_NONE, stream, static_cast<std::uint32_t>(code));
}

void session::go_away(error_code code) {
  nghttp2_session_terminate_session(s_, static_cast<std::uint32_t>(code));
}

void session::finish_streams() {
  nghttp2_submit_goaway(s_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(s_),
                        NGHTTP2_NO_ERROR, nullptr, 0);
}

void session::begin_shutdown() {
  nghttp2_submit_shutdown_notice(s_);
}

bool session::finished() const {
  return nghttp2_session_want_read(s_) == 0 && nghttp2_session_want_write(s_) == 0;
}

bool session::want_write() const {
  return nghttp2_session_want_write(s_) != 0;
}

}  // namespace ns::http2
