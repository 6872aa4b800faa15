// SPDX-License-Identifier: MIT
#include "http/query.hpp"

namespace ns::http {

std::optional<std::string_view> query_value(std::string_view target,
                                            std::string_view key) noexcept {
  const std::size_t q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(q + 1);
  query = query.substr(0, query.find('#'));
  while (true) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::size_t eq = pair.find('=');
    if (pair.substr(0, eq) == key) {
      return eq == std::string_view::npos ? pair.substr(pair.size()) : pair.substr(eq + 1);
    }
    if (amp == std::string_view::npos) return std::nullopt;
    query.remove_prefix(amp + 1);
  }
}

}  // namespace ns::http
