// SPDX-License-Identifier: MIT
#pragma once
// Ids of the loop's deadlines (io::timer_wheel indexes) and who owns each.
//
// A deadline belongs to a handle, not to a slot index: an owner takes an id for as long as it
// needs one and the wheel reports the id when it is due; the owner is looked up by handle, so
// a deadline outliving its owner (it cannot: ids are released at finalize, after cancel) would
// resolve to nothing rather than to the slot's next occupant. Fixed capacity, no allocation
// after construction, O(1) take and release.

#include <cstdint>
#include <vector>

#include <network_server/types.hpp>

#include "server/transport.hpp"

namespace ns::server {

class timer_ids {
 public:
  explicit timer_ids(std::uint32_t capacity) : owner_(capacity, invalid_client) {
    free_.reserve(capacity);
    for (std::uint32_t i = capacity; i > 0; --i) free_.push_back(i - 1);
  }

  [[nodiscard]] std::uint32_t capacity() const noexcept {
    return static_cast<std::uint32_t>(owner_.size());
  }

  /// An unused id for @p owner, or no_timer when all are taken.
  [[nodiscard]] timer_id take(client_num_t owner) noexcept {
    if (free_.empty()) return no_timer;
    const timer_id id = free_.back();
    free_.pop_back();
    owner_[id] = owner;
    return id;
  }

  /// Gives @p id back (its deadline must have been cancelled).
  void release(timer_id id) noexcept {
    if (id == no_timer || owner_[id] == invalid_client) return;
    owner_[id] = invalid_client;
    free_.push_back(id);
  }

  /// The handle that owns @p id (invalid_client if none).
  [[nodiscard]] client_num_t owner(timer_id id) const noexcept { return owner_[id]; }

 private:
  std::vector<client_num_t> owner_;
  std::vector<timer_id> free_;
};

}  // namespace ns::server
