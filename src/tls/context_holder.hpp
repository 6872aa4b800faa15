// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Atomic swap point for certificate reload (SIGHUP after a renewal).

#include <memory>
#include <mutex>
#include <string>

#include <network_server/config.hpp>

#include "tls/context.hpp"

namespace ns::tls {

/// Holds the current server `context`. New sessions take `get()`; sessions already created keep
/// the context they hold (shared ownership), so a reload never disturbs a live connection.
/// Thread-safe: any thread may call `get`, `reload` or `set`.
class context_holder {
 public:
  /// @p initial must not be null.
  explicit context_holder(std::shared_ptr<const context> initial);

  /// The context for new sessions.
  std::shared_ptr<const context> get() const;

  /// Replaces the context.
  void set(std::shared_ptr<const context> next);

  /// Builds a fresh context from @p cfg's files, sharing the current ticket key ring (so
  /// tickets issued before the reload still resume), and swaps it in. On failure the current
  /// context stays and the one-line reason is returned; on success returns an empty string.
  std::string reload(const tls_config& cfg);

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const context> current_;
};

}  // namespace ns::tls
