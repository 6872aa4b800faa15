// SPDX-License-Identifier: MIT
#include "server/debug_registry.hpp"

#include <mutex>

namespace ns::server {

debug_entry* debug_loops = nullptr;

namespace {
std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
}  // namespace

debug_entry::debug_entry(const network_server::impl* l) noexcept : loop(l) {
  const std::lock_guard lock(registry_mutex());
  next = debug_loops;
  debug_loops = this;
}

debug_entry::~debug_entry() {
  const std::lock_guard lock(registry_mutex());
  for (debug_entry** p = &debug_loops; *p != nullptr; p = &(*p)->next) {
    if (*p == this) {
      *p = next;
      break;
    }
  }
}

}  // namespace ns::server
