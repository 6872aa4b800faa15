// SPDX-License-Identifier: MIT
// NS_FUZZ_LIBS: ns_handover
// Fuzzes the decoder of a moving connection's state (what a successor reads from the process it
// replaces, with the connection's socket). Invariants: it never reads past its input; a state
// it accepts, encoded again, is exactly the bytes it was read from (one encoding per state);
// and a record layer built from it reads the carried ciphertext without crashing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "handover/connection_state.hpp"
#include "tls/record_layer.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

class drop_sink final : public ns::tls::ciphertext_sink {
 public:
  std::span<std::byte> prepare(std::size_t n) override {
    buf_.resize(n);
    return buf_;
  }
  void commit(std::size_t) override {}

 private:
  std::vector<std::byte> buf_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
  ns::handover::connection_state s;
  std::string error;
  if (!ns::handover::decode(in, s, error)) {
    check(!error.empty());
    return 0;
  }
  std::vector<std::byte> again = ns::handover::encode(s);
  check(again.size() == in.size() && std::equal(again.begin(), again.end(), in.begin()));
  ns::handover::wipe(again);
  const std::vector<std::byte> input = s.tls.input;
  ns::tls::record_layer layer(std::move(s.tls.records));
  std::vector<std::byte> out(ns::tls::record_layer::max_plaintext + 256);
  drop_sink control;
  std::span<const std::byte> rest(input);
  while (!rest.empty()) {
    const auto st = layer.read(rest, out, control);
    if (st.consumed == 0) break;
    check(st.consumed <= rest.size());
    rest = rest.subspan(st.consumed);
  }
  return 0;
}
