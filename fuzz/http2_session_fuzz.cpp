// SPDX-License-Identifier: MIT
// NS_FUZZ_LIBS: ns_http2
// Fuzzes http2::session (nghttp2 under our callbacks): a valid client preface and SETTINGS
// frame, then the input's frames. Byte 0 picks the chunk size the frames are fed in, byte 1
// options (answer requests, defer bodies, a small header list limit).
// Invariants: requests arrive only on odd client stream ids, each at most once and never after
// its stream closed; a stream closes at most once; reported fields stay within the header list
// limit; once feed() fails the session is not fed again; output always drains.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "http2/session.hpp"

namespace {

using namespace ns::http2;

void check(bool ok) {
  if (!ok) std::abort();
}

struct fuzz_events final : events {
  session* s = nullptr;
  bool answer = false;
  bool defer = false;
  std::uint32_t list_limit = 0;
  std::set<std::int32_t> requested, closed;
  std::map<std::int32_t, std::size_t> left;  // response body bytes still to give

  void on_request(std::int32_t stream, const request_head& h) override {
    check(stream > 0 && (stream & 1) == 1);
    check(requested.insert(stream).second);
    check(closed.count(stream) == 0);
    std::size_t bytes = 0;
    for (const field& f : h.fields) bytes += f.name.size() + f.value.size() + 32;
    check(bytes <= list_limit);
    if (answer) {
      left[stream] = 1 + h.path.size() * 100;
      const field fields[] = {{"Content-Type", "text/plain"}, {"Connection", "close"}};
      s->respond(stream, 200, fields, !h.method.empty());
    }
  }
  void on_body(std::int32_t stream, std::span<const std::byte>) override {
    check(requested.count(stream) == 1);
  }
  void on_body_end(std::int32_t stream) override { check(requested.count(stream) == 1); }
  body_chunk read_body(std::int32_t stream, std::span<std::byte> out) override {
    if (defer && (left[stream] & 1) == 0) {
      left[stream] -= 1;
      return {0, false, true};
    }
    const std::size_t n = std::min(out.size(), left[stream]);
    std::memset(out.data(), 'x', n);
    left[stream] -= n;
    return {n, left[stream] == 0, false};
  }
  void on_stream_closed(std::int32_t stream, error_code) override {
    check(closed.insert(stream).second);
    left.erase(stream);
  }
};

void drain(session& s, fuzz_events& ev) {
  for (int i = 0; i < 10000; ++i) {
    if (s.take_output().empty()) {
      for (const auto& [id, n] : ev.left) s.resume(id);
      if (s.take_output().empty()) return;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t chunk = 1 + data[0];
  const unsigned flags = data[1];
  // The preface and an empty SETTINGS frame (RFC 9113 §3.4), so the frames after them are
  // what gets explored.
  static constexpr char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\4\0\0\0\0\0";
  const std::size_t pre = sizeof preface - 1;
  // Exact-size heap copy so ASan catches any over-read.
  std::unique_ptr<std::byte[]> buf(new std::byte[pre + size - 2]);
  std::memcpy(buf.get(), preface, pre);
  std::memcpy(buf.get() + pre, data + 2, size - 2);
  std::span<const std::byte> in(buf.get(), pre + size - 2);

  fuzz_events ev;
  settings st;
  if ((flags & 4) != 0) st.max_header_list_size = 256;
  ev.list_limit = st.max_header_list_size;
  ev.answer = (flags & 1) != 0;
  ev.defer = (flags & 2) != 0;
  session s(st, ev);
  ev.s = &s;
  while (!in.empty()) {
    const std::size_t n = std::min(chunk, in.size());
    const feed_result r = s.feed(in.first(n));
    in = in.subspan(n);
    drain(s, ev);
    if (!r.ok) break;
  }
  if ((flags & 8) != 0) s.go_away(error_code::no_error);
  drain(s, ev);
  return 0;
}
