// SPDX-License-Identifier: MIT
#pragma once
// Waiting for something another thread or process does, bounded.

#include <chrono>
#include <thread>

namespace ns::test {

/// Polls @p pred every 10 ms until it holds or @p limit passes; returns its last value.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= end) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace ns::test
