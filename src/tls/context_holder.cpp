// SPDX-License-Identifier: MIT
// Reload: the (slow) context build happens outside the lock; only the pointer swap is locked,
// so threads accepting connections are never blocked by file I/O or key parsing.
#include "tls/context_holder.hpp"

#include <stdexcept>

namespace ns::tls {

context_holder::context_holder(std::shared_ptr<const context> initial)
    : current_(std::move(initial)) {}

std::shared_ptr<const context> context_holder::get() const {
  std::lock_guard lock(mutex_);
  return current_;
}

void context_holder::set(std::shared_ptr<const context> next) {
  std::lock_guard lock(mutex_);
  current_.swap(next);
  // `next` (the old context) is released outside the lock when it goes out of scope.
}

std::string context_holder::reload(const tls_config& cfg) {
  std::shared_ptr<ticket_keys> keys = get()->keys();
  try {
    set(context::server(cfg, std::move(keys)));
  } catch (const std::exception& e) {
    return e.what();
  }
  return {};
}

}  // namespace ns::tls
