// SPDX-License-Identifier: MIT
// llhttp adapter. llhttp runs without any lenient flag; we add what its 8.1 release lets
// through: obs-fold and bare LF in the request line (RFC 9112 §2.2, §5.2), HTTP/0.9 and
// HTTP/2+ versions, and Host rules (RFC 9112 §3.2). Every event pauses llhttp (HPE_PAUSED)
// so one feed() returns at most one event and `consumed` says where it happened.
#include "http/request_parser.hpp"

#include <llhttp.h>

#include <algorithm>
#include <cstring>

namespace ns::http {

namespace {

char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// RFC 9110 §5.6.2: a field name is a token (no space before the colon).
bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_tchar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// uri-host [":" port] characters (RFC 3986 §3.2.2: reg-name, IP-literal, IPv4, port).
bool valid_host(std::string_view s) noexcept {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    const bool ok = (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
                    (u != 0 && std::strchr("-._~%!$&'()*+,;=:[]", u) != nullptr);
    if (!ok) return false;
  }
  return true;
}

std::string_view trim_ows(std::string_view v) noexcept {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

}  // namespace

struct request_parser::impl {
  llhttp_t parser{};

  static request_parser& self(llhttp_t* p) { return *static_cast<request_parser*>(p->data); }

  static int on_url(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = self(p);
    s.line_bytes_ += n;
    if (s.line_bytes_ > s.limits_.max_request_line) {
      s.error_ = http::error::uri_too_long;
      return HPE_USER;
    }
    return s.append_head(s.target_, at, n) ? 0 : HPE_USER;
  }
  static int on_line_part(llhttp_t* p, const char*, std::size_t n) {
    auto& s = self(p);
    s.line_bytes_ += n;
    if (s.line_bytes_ > s.limits_.max_request_line) {
      s.error_ = http::error::uri_too_long;
      return HPE_USER;
    }
    return 0;
  }
  static int on_header_field(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = self(p);
    if (!s.field_open_) {
      if (s.fields_.size() >= s.limits_.max_header_count) {
        s.error_ = http::error::header_fields_too_large;
        return HPE_USER;
      }
      s.fields_.emplace_back();
      s.fields_.back().name.off = static_cast<std::uint32_t>(s.head_.size());
      s.field_open_ = true;
      s.header_bytes_ += 4;  // ": " and CRLF count towards the limit too
    }
    return s.append_head(s.fields_.back().name, at, n) ? 0 : HPE_USER;
  }
  static int on_header_field_complete(llhttp_t* p) {
    self(p).field_open_ = false;
    return 0;
  }
  static int on_header_value(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = self(p);
    if (s.fields_.empty()) return 0;  // llhttp always gives a field first; be defensive
    return s.append_head(s.fields_.back().value, at, n) ? 0 : HPE_USER;
  }
  static int on_headers_complete(llhttp_t* p) { return self(p).headers_complete(); }
  static int on_chunk_header(llhttp_t* p) { return self(p).chunk_header(p->content_length); }
  static int on_body(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = self(p);
    if (n == 0) return 0;  // llhttp re-opens a span on resume with no input: nothing to report
    if (s.phase_ == phase::body_streaming) {
      s.chunk_ = std::string_view(at, n);
      s.pending_ = parse_status::body_chunk;
      return HPE_PAUSED;
    }
    // Buffered: bounded by max_buffered_body, checked in headers_complete()/chunk_header().
    if (s.body_.capacity() == 0) s.body_.reserve(s.limits_.max_buffered_body);
    s.body_.insert(s.body_.end(), at, at + n);
    return 0;
  }
  static int on_message_complete(llhttp_t* p) {
    auto& s = self(p);
    if (llhttp_get_upgrade(p) != 0) {
      s.request_.body = std::string_view(s.body_.data(), s.body_.size());
      s.phase_ = phase::upgraded;
      s.pending_ = parse_status::upgrade;
    } else if (s.phase_ == phase::body_streaming) {
      s.phase_ = phase::message_done;
      s.pending_ = parse_status::body_done;
    } else {
      s.request_.body = std::string_view(s.body_.data(), s.body_.size());
      s.phase_ = phase::message_done;
      s.pending_ = parse_status::request_ready;
    }
    return HPE_PAUSED;
  }

  static const llhttp_settings_t& settings() {
    static const llhttp_settings_t st = [] {
      llhttp_settings_t x;
      llhttp_settings_init(&x);
      x.on_url = on_url;
      x.on_method = on_line_part;
      x.on_version = on_line_part;
      x.on_header_field = on_header_field;
      x.on_header_field_complete = on_header_field_complete;
      x.on_header_value = on_header_value;
      x.on_headers_complete = on_headers_complete;
      x.on_chunk_header = on_chunk_header;
      x.on_body = on_body;
      x.on_message_complete = on_message_complete;
      return x;
    }();
    return st;
  }
};

request_parser::request_parser(const ns::http_limits& limits)
    : limits_(limits), impl_(std::make_unique<impl>()) {
  reset();
}

void request_parser::reserve_head() {
  // Room for a typical request head; a larger one grows the buffers (fields refer to the head
  // by offset, so they survive that) and they keep their size: steady state never allocates.
  // Reserving the limits whole (24 KiB and 5 KiB by default) cost every new connection 2.8 %
  // more CPU (bench https_new_conn, 8 alternated runs: 187.4 → 182.1 µs/op): glibc served
  // them from the top of the heap and gave it back at each close.
  // Not in the constructor: most connections are idle most of the time and hold none of this.
  constexpr std::size_t typical_head = 4096;
  constexpr std::size_t typical_fields = 32;
  head_.reserve(std::min(limits_.max_request_line + limits_.max_header_bytes + 16, typical_head));
  fields_.reserve(std::min(limits_.max_header_count, typical_fields));
  request_.headers.reserve(std::min(limits_.max_header_count, typical_fields));
}

bool request_parser::release_storage() noexcept {
  switch (phase_) {
    case phase::message_done:
      begin_message();  // the answered request's views go with its storage
      break;
    case phase::head:
      if (!head_.empty() || !fields_.empty()) return false;  // a request has begun
      break;
    case phase::upgraded:
    case phase::failed: {
      const phase keep = phase_;  // stays refused; only the views are dropped
      begin_message();
      phase_ = keep;
      break;
    }
    case phase::method_check:
    case phase::body_buffered:
    case phase::body_streaming:
      return false;
  }
  std::vector<char>().swap(head_);
  std::vector<char>().swap(body_);
  std::vector<field_ref>().swap(fields_);
  decltype(request_.headers)().swap(request_.headers);
  return true;
}

request_parser::~request_parser() = default;

void request_parser::reset() {
  llhttp_init(&impl_->parser, HTTP_REQUEST, &impl::settings());
  impl_->parser.data = this;
  paused_ = false;
  error_ = http::error::none;
  begin_message();
}

void request_parser::begin_message() {
  head_.clear();
  body_.clear();
  fields_.clear();
  request_.headers.clear();
  request_.method = {};
  request_.target = {};
  request_.body = {};
  request_.version_major = 1;
  request_.version_minor = 1;
  request_.keep_alive = true;
  request_.upgrade = false;
  target_ = {};
  line_bytes_ = header_bytes_ = 0;
  content_length_ = body_total_ = 0;
  field_open_ = expects_continue_ = flush_buffered_ = false;
  phase_ = phase::head;
  chunk_ = {};
  head_scan_done_ = head_seen_text_ = false;
  prev_ = 0;
  crlf_run_ = 0;
}

bool request_parser::append_head(span_ref& ref, const char* at, std::size_t n) {
  if (ref.len == 0) ref.off = static_cast<std::uint32_t>(head_.size());
  if (&ref != &target_) {
    header_bytes_ += n;
    if (header_bytes_ > limits_.max_header_bytes) {
      error_ = http::error::header_fields_too_large;
      return false;
    }
  }
  head_.insert(head_.end(), at, at + n);
  ref.len += static_cast<std::uint32_t>(n);
  return true;
}

bool request_parser::scan_head(std::span<const std::byte> data) {
  // RFC 9112 §2.2 lets a recipient accept bare LF; we do not (it is a smuggling vector when a
  // proxy disagrees). §5.2: obs-fold in a request → 400. The scan stops at the empty line.
  for (std::byte b : data) {
    const auto c = static_cast<unsigned char>(b);
    if (c == '\n') {
      if (prev_ != '\r') {
        error_ = http::error::bare_lf;
        return false;
      }
      if (++crlf_run_ >= 2 && head_seen_text_) {
        head_scan_done_ = true;
        return true;
      }
    } else if (c != '\r') {
      if (prev_ == '\n' && head_seen_text_ && (c == ' ' || c == '\t')) {
        error_ = http::error::obs_fold;
        return false;
      }
      head_seen_text_ = true;
      crlf_run_ = 0;
    }
    prev_ = c;
  }
  return true;
}

int request_parser::headers_complete() {
  auto* p = &impl_->parser;
  request_.version_major = p->http_major;
  request_.version_minor = p->http_minor;
  if (p->http_major == 0) {
    error_ = http::error::invalid_version;
    return -1;
  }
  if (p->http_major > 1) {
    error_ = http::error::version_not_supported;
    return -1;
  }
  request_.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
  request_.target = std::string_view(head_.data() + target_.off, target_.len);
  std::size_t hosts = 0;
  for (const auto& f : fields_) {
    const std::string_view name(head_.data() + f.name.off, f.name.len);
    const auto value = trim_ows(std::string_view(head_.data() + f.value.off, f.value.len));
    if (!is_token(name)) {
      error_ = http::error::invalid_header;
      return -1;
    }
    request_.headers.push_back({name, value});
    if (iequals(name, "host")) {
      ++hosts;
      if (!valid_host(value)) {
        error_ = http::error::invalid_host;
        return -1;
      }
    }
    if (iequals(name, "expect") && iequals(value, "100-continue")) expects_continue_ = true;
  }
  if (hosts > 1) {
    error_ = http::error::duplicate_host;
    return -1;
  }
  if (hosts == 0 && p->http_minor >= 1) {
    error_ = http::error::missing_host;
    return -1;
  }
  // RFC 9110 §10.1.1: a server ignores 100-continue from HTTP/1.0 clients.
  if (p->http_minor == 0) expects_continue_ = false;
  request_.keep_alive = llhttp_should_keep_alive(p) != 0;
  request_.upgrade = p->upgrade != 0;
  const bool chunked = (p->flags & F_CHUNKED) != 0;
  if ((p->flags & F_CONTENT_LENGTH) != 0) content_length_ = p->content_length;
  if (content_length_ > limits_.max_body_bytes) {
    error_ = http::error::body_too_large;
    return -1;
  }
  const bool has_body = chunked || content_length_ > 0;
  if (!has_body) expects_continue_ = false;
  if (content_length_ > limits_.max_buffered_body) {
    phase_ = phase::body_streaming;
    pending_ = parse_status::headers_ready_streaming;
    return HPE_PAUSED;
  }
  phase_ = phase::body_buffered;
  if (expects_continue_) {
    pending_ = parse_status::expect_continue;
    return HPE_PAUSED;
  }
  return 0;
}

int request_parser::chunk_header(std::uint64_t size) {
  if (size > limits_.max_body_bytes - body_total_) {
    error_ = http::error::body_too_large;
    return -1;
  }
  body_total_ += size;
  if (phase_ == phase::body_buffered && body_total_ > limits_.max_buffered_body) {
    // The chunked body outgrew the buffer: switch to streaming; what was buffered so far is
    // handed out as the first body_chunk by the next feed().
    phase_ = phase::body_streaming;
    flush_buffered_ = !body_.empty();
    pending_ = parse_status::headers_ready_streaming;
    return HPE_PAUSED;
  }
  return 0;
}

std::size_t request_parser::reserved_bytes() const noexcept {
  return head_.capacity() + body_.capacity() + fields_.capacity() * sizeof(field_ref) +
         request_.headers.capacity() * sizeof(request_.headers[0]);
}

parse_result request_parser::fail(http::error e, std::size_t consumed) {
  if (error_ == http::error::none) error_ = e;
  phase_ = phase::failed;
  return {consumed, parse_status::error, {}};
}

bool request_parser::is_supported_method() const noexcept {
  for (std::string_view m : {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"}) {
    if (request_.method == m) return true;
  }
  return false;
}

parse_result request_parser::check_method_line(std::span<const std::byte> data, std::size_t from) {
  std::size_t n = 0;
  switch (line_check_.feed(data.subspan(from), n)) {
    case request_line_check::verdict::need_more:
      return {data.size(), parse_status::need_more, {}};
    case request_line_check::verdict::unknown_method:
      return fail(http::error::unknown_method, from + n);
    case request_line_check::verdict::too_long:
      return fail(http::error::uri_too_long, from + n);
    case request_line_check::verdict::malformed:
      break;
  }
  return fail(http::error::malformed_request_line, from + n);
}

namespace {

http::error map_llhttp(llhttp_errno_t e, const char* why) {
  switch (e) {
    case HPE_INVALID_METHOD:
      return http::error::unknown_method;
    case HPE_UNEXPECTED_CONTENT_LENGTH:
      return (why != nullptr && std::strstr(why, "Transfer-Encoding") != nullptr)
                 ? http::error::length_and_chunked
                 : http::error::duplicate_content_length;
    case HPE_INVALID_CONTENT_LENGTH:
      return http::error::invalid_content_length;
    case HPE_INVALID_TRANSFER_ENCODING:
      return http::error::invalid_transfer_encoding;
    case HPE_INVALID_HEADER_TOKEN:
      return http::error::invalid_header;
    case HPE_INVALID_CHUNK_SIZE:
      return http::error::invalid_chunk;
    case HPE_INVALID_VERSION:
      return http::error::invalid_version;
    default:
      return http::error::bad_request;
  }
}

}  // namespace

parse_result request_parser::feed(std::span<const std::byte> data) {
  switch (phase_) {
    case phase::failed:
      return {0, parse_status::error, {}};
    case phase::upgraded:
      return fail(http::error::after_upgrade, 0);
    case phase::message_done:
      begin_message();
      break;
    case phase::method_check:
      // Still the head: the same scan as before llhttp, so a split input fails alike.
      if (!head_scan_done_ && !scan_head(data)) return fail(error_, 0);
      return check_method_line(data, 0);
    default:
      break;
  }
  if (flush_buffered_) {
    flush_buffered_ = false;
    return {0, parse_status::body_chunk, std::string_view(body_.data(), body_.size())};
  }
  if (head_.capacity() == 0 && phase_ == phase::head) reserve_head();
  if (phase_ == phase::head && !head_scan_done_ && !scan_head(data)) {
    return fail(error_, 0);
  }
  if (paused_) {
    llhttp_resume(&impl_->parser);
    paused_ = false;
  }
  pending_ = parse_status::need_more;
  chunk_ = {};
  static const char empty = 0;
  const char* begin = data.empty() ? &empty : reinterpret_cast<const char*>(data.data());
  const llhttp_errno_t rc = llhttp_execute(&impl_->parser, begin, data.size());
  if (rc == HPE_OK) return {data.size(), parse_status::need_more, {}};
  const char* pos = llhttp_get_error_pos(&impl_->parser);
  const std::size_t consumed =
      (pos != nullptr && pos >= begin) ? std::min<std::size_t>(pos - begin, data.size()) : 0;
  if (rc == HPE_PAUSED) {
    paused_ = true;
    return {consumed, pending_, chunk_};
  }
  if (rc == HPE_PAUSED_UPGRADE) {
    phase_ = phase::upgraded;
    return {consumed, parse_status::upgrade, {}};
  }
  if (rc == HPE_INVALID_METHOD) {
    // llhttp stopped inside the method (or right after it). What it took of this input before
    // that, leading CRLFs aside, and what it reported from earlier inputs are method bytes.
    std::size_t method_bytes = line_bytes_;
    for (std::size_t i = 0; i < consumed; ++i) {
      if (begin[i] != '\r' && begin[i] != '\n') ++method_bytes;
    }
    line_check_ = request_line_check(method_bytes, limits_.max_request_line);
    phase_ = phase::method_check;
    return check_method_line(data, consumed);
  }
  return fail(map_llhttp(rc, llhttp_get_error_reason(&impl_->parser)), consumed);
}

}  // namespace ns::http
