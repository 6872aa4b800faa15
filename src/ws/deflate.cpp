// SPDX-License-Identifier: MIT
#include "ws/deflate.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

namespace ns::ws {

namespace {

constexpr unsigned char sync_tail[4] = {0x00, 0x00, 0xFF, 0xFF};  // RFC 7692 §7.2.1

Bytef* zin(const std::byte* p) noexcept {
  return reinterpret_cast<Bytef*>(const_cast<std::byte*>(p));
}

// zlib's allocations of one stream, counted (memory accounting: what a connection's deflate
// and inflate state really cost, window and hash tables included, rather than zlib's
// documented estimate). Each block carries its size in a header aligned for any type.
struct counted_stream {
  z_stream zs{};
  std::size_t bytes = 0;

  counted_stream() {
    zs.opaque = this;
    zs.zalloc = [](voidpf opaque, uInt items, uInt size) -> voidpf {
      const std::size_t n = std::size_t{items} * size;
      void* p = std::malloc(n + header);
      if (p == nullptr) return Z_NULL;
      std::memcpy(p, &n, sizeof n);
      static_cast<counted_stream*>(opaque)->bytes += n + header;
      return static_cast<char*>(p) + header;
    };
    zs.zfree = [](voidpf opaque, voidpf address) {
      if (address == Z_NULL) return;
      void* p = static_cast<char*>(address) - header;
      std::size_t n = 0;
      std::memcpy(&n, p, sizeof n);
      static_cast<counted_stream*>(opaque)->bytes -= n + header;
      std::free(p);
    };
  }
  counted_stream(const counted_stream&) = delete;
  counted_stream& operator=(const counted_stream&) = delete;

  static constexpr std::size_t header = alignof(std::max_align_t);
};

}  // namespace

struct deflater::impl : counted_stream {
  ~impl() { deflateEnd(&zs); }
};

deflater::deflater(int window_bits, bool no_context_takeover, const deflate_options& opts)
    : window_bits_(std::clamp(window_bits, 8, 15)),
      no_context_takeover_(no_context_takeover),
      opts_(opts) {}

deflater::~deflater() = default;

bool deflater::compress(std::span<const std::byte> message, byte_buffer& out) {
  out.clear();
  if (!z_) {
    auto z = std::make_unique<impl>();
    // Raw deflate (negative windowBits, §7.2.1). zlib refuses a 256-byte raw window and 9 is
    // safe for a peer that asked for 8 (no distance above 250 is ever emitted).
    const int bits = std::max(window_bits_, 9);
    if (deflateInit2(&z->zs, opts_.level, Z_DEFLATED, -bits, opts_.mem_level, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
      return false;
    }
    z_ = std::move(z);
  }
  z_stream& zs = z_->zs;
  zs.next_in = zin(message.data());
  zs.avail_in = static_cast<uInt>(message.size());
  for (;;) {
    const std::size_t room = std::max<std::size_t>(deflateBound(&zs, zs.avail_in) + 16, 64);
    zs.next_out = reinterpret_cast<Bytef*>(out.prepare(room));
    zs.avail_out = static_cast<uInt>(room);
    const int rc = ::deflate(&zs, Z_SYNC_FLUSH);
    out.commit(room - zs.avail_out);
    if (rc != Z_OK && rc != Z_BUF_ERROR) return false;
    if (zs.avail_out != 0 && zs.avail_in == 0) break;  // everything flushed
  }
  // Remove the empty stored block's LEN/NLEN that Z_SYNC_FLUSH ends with (§7.2.1).
  if (out.size() >= 4 && std::memcmp(out.data() + out.size() - 4, sync_tail, 4) == 0) {
    out.truncate(out.size() - 4);
  }
  if (out.empty()) {
    // zlib emits nothing for an empty message once the stream is already flushed; an empty
    // payload would leave the peer's inflater mid-block after the tail, so send the single
    // 0x00 byte of §7.2.3.6 (an empty stored block once the tail is appended).
    *out.prepare(1) = std::byte{0};
    out.commit(1);
  }
  if (no_context_takeover_) deflateReset(&zs);
  return true;
}

struct inflater::impl : counted_stream {
  ~impl() { inflateEnd(&zs); }
};

std::size_t deflater::zlib_bytes() const noexcept {
  return z_ ? sizeof(impl) + z_->bytes : 0;
}

std::size_t inflater::zlib_bytes() const noexcept {
  return z_ ? sizeof(impl) + z_->bytes : 0;
}

inflater::inflater(int window_bits, bool no_context_takeover) noexcept
    : window_bits_(window_bits), no_context_takeover_(no_context_takeover) {}

inflater::~inflater() = default;

void inflater::release() noexcept {
  z_.reset();
  stream_ended_ = false;
}

inflate_status inflater::inflate(std::span<const std::byte> piece, byte_buffer& out,
                                 std::size_t limit) {
  if (!piece.empty()) stream_ended_ = false;
  return run(piece, out, limit, false);
}

inflate_status inflater::run(std::span<const std::byte> piece, byte_buffer& out, std::size_t limit,
                             bool tail) {
  if (!z_) {
    auto z = std::make_unique<impl>();
    // The window bits are clamped to the valid range: only an allocation failure is left.
    if (inflateInit2(&z->zs, -std::clamp(window_bits_, 8, 15)) != Z_OK) {  // GCOVR_EXCL_BR_LINE
      return inflate_status::error;                                        // GCOVR_EXCL_LINE
    }
    z_ = std::move(z);
  }
  z_stream& zs = z_->zs;
  zs.next_in = zin(piece.data());
  zs.avail_in = static_cast<uInt>(piece.size());
  for (;;) {
    if (out.size() > limit) return inflate_status::too_big;
    // Never offer more room than one byte past the limit, so a bomb stops right there.
    const std::size_t headroom = limit - out.size() + (limit == SIZE_MAX ? 0 : 1);
    // Room for a typical ratio, or whatever capacity is already there (no allocation then).
    const std::size_t want = std::min<std::size_t>(
        std::max<std::size_t>({std::size_t{zs.avail_in} * 4, out.capacity() - out.size(), 1024}),
        headroom);
    if (out.capacity() - out.size() < want) {
      // Grow geometrically but never past limit + 1: a bomb cannot make us allocate more.
      out.reserve(std::min(std::max(out.capacity() * 2, out.size() + want), out.size() + headroom));
    }
    zs.next_out = reinterpret_cast<Bytef*>(out.prepare(want));
    zs.avail_out = static_cast<uInt>(want);
    // The tail is inflated with Z_BLOCK so that zlib reports whether the message ended on a
    // block boundary (data_type bit 128), which §7.2.2 requires of a complete message.
    const int rc = ::inflate(&zs, tail ? Z_BLOCK : Z_SYNC_FLUSH);
    out.commit(want - zs.avail_out);
    if (out.size() > limit) return inflate_status::too_big;
    if (rc == Z_STREAM_END) {
      // The peer ended the DEFLATE stream (BFINAL, §7.2.3.4). A fresh stream takes what
      // follows; the implied tail after a final block carries nothing and is dropped.
      inflateReset(&zs);
      if (tail) return inflate_status::ok;
      if (zs.avail_in == 0) {
        stream_ended_ = true;
        return inflate_status::ok;
      }
      continue;
    }
    if (rc == Z_BUF_ERROR) {
      if (zs.avail_in == 0 && zs.avail_out != 0) break;  // needs more input
      if (zs.avail_out == 0) continue;
      // zlib reports Z_BUF_ERROR only without input or without output room (both handled).
      return inflate_status::error;  // GCOVR_EXCL_LINE
    }
    if (rc != Z_OK) return inflate_status::error;
    if (zs.avail_in == 0 && zs.avail_out != 0) break;
  }
  if (tail && (zs.data_type & 128) == 0) return inflate_status::error;  // message cut mid-block
  return inflate_status::ok;
}

inflate_status inflater::finish(byte_buffer& out, std::size_t limit) {
  inflate_status s = inflate_status::ok;
  if (stream_ended_) {
    stream_ended_ = false;  // ended by BFINAL: nothing to flush, stream already reset
  } else {
    s = run(std::span<const std::byte>(reinterpret_cast<const std::byte*>(sync_tail), 4), out,
            limit, true);
  }
  if (s == inflate_status::ok && no_context_takeover_ && z_) inflateReset(&z_->zs);
  return s;
}

}  // namespace ns::ws
