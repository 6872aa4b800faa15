// SPDX-License-Identifier: MIT
// NS_FUZZ_LIBS: ns_cluster
// Fuzzes cluster::decode_envelope, the one parser of bytes another instance (or anyone who can
// PUBLISH on the Redis channel) sends us. The first byte picks the payload bound (0..255, or
// 1 MiB when it is 0xff); the rest is the message.
// Invariants: an accepted envelope's origin and payload lie inside the message, the header and
// payload make up the whole message, the payload is within the bound, and encoding what was
// decoded gives back the same bytes; every proper prefix of an accepted message is refused;
// a refused message is refused the same way with a larger copy of its bytes elsewhere.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "cluster/envelope.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ns::cluster;
  if (size < 1) return 0;
  const std::size_t max_payload = data[0] == 0xff ? std::size_t{1} << 20 : data[0];
  // Exact-size copy, so a read past the end is an ASan finding.
  const std::size_t n = size - 1;
  std::unique_ptr<std::byte[]> buf(new std::byte[n]);
  if (n > 0) std::memcpy(buf.get(), data + 1, n);
  const std::span<const std::byte> msg(buf.get(), n);
  const decode_result r = decode_envelope(msg, max_payload);
  if (r.status != decode_status::ok) {
    if (describe(r.status) == "unknown") std::abort();
    return 0;
  }
  const envelope& e = r.value;
  const auto* begin = reinterpret_cast<const char*>(msg.data());
  if (e.origin.empty() || e.origin.size() > max_origin_bytes) std::abort();
  if (e.origin.data() < begin || e.origin.data() + e.origin.size() > begin + n) std::abort();
  if (e.payload.size() > max_payload) std::abort();
  if (e.payload.data() + e.payload.size() != msg.data() + n) std::abort();
  if (envelope_header_size(e.origin.size()) + e.payload.size() != n) std::abort();
  if (e.type != payload_type::text && e.type != payload_type::binary) std::abort();
  std::string again;
  if (!encode_envelope(again, e.origin, e.type, e.payload)) std::abort();
  if (again.size() != n || std::memcmp(again.data(), begin, n) != 0) std::abort();
  // Prefixes: O(n²) bytes looked at, so only for small inputs.
  for (std::size_t cut = 0; n <= 512 && cut < n; ++cut) {
    if (decode_envelope(msg.first(cut), max_payload).status == decode_status::ok) std::abort();
  }
  return 0;
}
