// SPDX-License-Identifier: MIT
// NS_FUZZ_LIBS: ns_ws
// Fuzzes permessage-deflate decompression under a limit, and the compress/decompress pair.
// Byte 0 picks window bits, context takeover and the limit. Invariants: inflate never produces
// more than limit + 1 bytes; inflate(deflate(x)) == x for the input as payload.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "ws/deflate.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ns::ws;
  if (size < 1) return 0;
  const unsigned flags = data[0];
  const int bits = 8 + static_cast<int>(flags & 7);
  const bool nct = (flags & 8) != 0;
  const std::size_t limit = (flags & 0x10) != 0 ? 64 : std::size_t{1} << 20;
  std::unique_ptr<std::byte[]> buf(new std::byte[size - 1]);
  std::memcpy(buf.get(), data + 1, size - 1);
  const std::span<const std::byte> in(buf.get(), size - 1);

  {  // Input as compressed data, fed in two pieces.
    inflater inf(bits, nct);
    byte_buffer out;
    const std::size_t cut = in.empty() ? 0 : (flags >> 5) % (in.size() + 1);
    inflate_status s = inf.inflate(in.first(cut), out, limit);
    check(out.size() <= limit + 1);
    if (s == inflate_status::ok) s = inf.inflate(in.subspan(cut), out, limit);
    check(out.size() <= limit + 1);
    if (s == inflate_status::ok) s = inf.finish(out, limit);
    check(out.size() <= limit + 1);
    check(s != inflate_status::ok || out.size() <= limit);
  }
  {  // Round trip with the same parameters, twice to exercise context takeover.
    deflater def(bits, nct);
    inflater inf(bits, nct);
    byte_buffer z;
    byte_buffer out;
    for (int round = 0; round < 2; ++round) {
      check(def.compress(in, z));
      out.clear();
      check(inf.inflate(z.span(), out, in.size()) == inflate_status::ok);
      check(inf.finish(out, in.size()) == inflate_status::ok);
      check(out.size() == in.size());
      check(in.empty() || std::memcmp(out.data(), in.data(), in.size()) == 0);
    }
  }
  return 0;
}
