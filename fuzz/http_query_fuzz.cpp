// SPDX-License-Identifier: MIT
// NS_FUZZ_LIBS: ns_http
// Fuzzes http::query_value. The first byte splits the input into a key and a target.
// Invariants: a value found is a view inside the target's query (after the first '?', before
// any '#'), holds no '&', and is preceded by "key=" or is an empty value right after the key;
// no '?' means nothing found.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/query.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view all(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::size_t split = data[0] < all.size() ? data[0] % 16 : 0;
  const std::string_view key = all.substr(0, split);
  const std::string_view target = all.substr(split);
  const auto v = ns::http::query_value(target, key);
  const std::size_t q = target.find('?');
  if (q == std::string_view::npos) {
    if (v) std::abort();
    return 0;
  }
  if (!v) return 0;
  const char* const begin = target.data() + q + 1;
  const std::size_t hash = target.find('#', q);
  const char* const end = target.data() + (hash == std::string_view::npos ? target.size() : hash);
  if (v->data() < begin || v->data() + v->size() > end) std::abort();
  if (v->find('&') != std::string_view::npos) std::abort();
  const std::size_t at = static_cast<std::size_t>(v->data() - target.data());
  const bool after_eq = at >= key.size() + 1 && target[at - 1] == '=' &&
                        target.substr(at - 1 - key.size(), key.size()) == key;
  const bool bare =
      v->empty() && at >= key.size() && target.substr(at - key.size(), key.size()) == key;
  if (!after_eq && !bare) std::abort();
  return 0;
}
