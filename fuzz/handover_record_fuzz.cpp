// SPDX-License-Identifier: MIT
// NS_FUZZ_LIBS: ns_handover
// Fuzzes the hand-over record decoder (what a process being upgraded and its successor read
// from each other). The first byte picks the size of the pieces the rest is fed in.
// Invariants: a feed never consumes more than it was given, nor past the end of a record; fed
// in pieces the decoder gives the same records and the same error as fed whole; a record it
// returns, encoded again, is exactly the bytes it was read from.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "handover/record.hpp"

namespace {

using namespace ns::handover;

void check(bool ok) {
  if (!ok) std::abort();
}

struct outcome {
  std::vector<std::vector<std::byte>> records;  // each re-encoded
  std::string error;
};

outcome run(std::span<const std::byte> data, std::size_t piece) {
  outcome o;
  decoder d;
  std::size_t off = 0;
  std::size_t record_start = 0;
  while (off < data.size()) {
    const std::size_t n = piece == 0 ? data.size() - off : std::min(piece, data.size() - off);
    std::span<const std::byte> in = data.subspan(off, n);
    while (!in.empty()) {
      const std::size_t before = in.size();
      record r;
      const decode_status s = d.feed(in, r);
      check(in.size() <= before);
      off += before - in.size();
      if (s == decode_status::error) {
        o.error = d.error();
        check(!o.error.empty());
        return o;
      }
      if (s == decode_status::ready) {
        const std::vector<std::byte> again = encode(r);
        check(again.size() == off - record_start);
        check(std::equal(again.begin(), again.end(), data.begin() + record_start));
        o.records.push_back(again);
        record_start = off;
      } else {
        check(in.empty());
      }
    }
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = data[0] % 17;  // 0: whole
  const std::span<const std::byte> rest(reinterpret_cast<const std::byte*>(data + 1), size - 1);
  const outcome whole = run(rest, 0);
  const outcome pieces = run(rest, piece);
  check(whole.records == pieces.records);
  check(whole.error == pieces.error);
  return 0;
}
