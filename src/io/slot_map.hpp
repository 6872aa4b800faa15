// SPDX-License-Identifier: MIT
#pragma once
// Generation-checked slot storage for connections and descriptors.
//
// Storage is allocated once (capacity fixed at construction), so references to a slot's value
// stay valid for the slot's life even when other slots are taken or freed inside callbacks —
// the "vector<conn> grows on accept" bug of weaker servers cannot happen. A handle is
// (generation << 32 | index); freeing a slot bumps its generation, so every handle to the old
// occupant stops resolving (DESIGN.md: handles are generation-checked).

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <network_server/types.hpp>

namespace ns::io {

template <class T>
class slot_map {
 public:
  explicit slot_map(std::uint32_t capacity) : slots_(capacity) {
    free_.reserve(capacity);
    for (std::uint32_t i = capacity; i > 0; --i) free_.push_back(i - 1);
  }

  [[nodiscard]] std::uint32_t capacity() const noexcept {
    return static_cast<std::uint32_t>(slots_.size());
  }
  [[nodiscard]] std::uint32_t size() const noexcept { return capacity() - available(); }
  [[nodiscard]] std::uint32_t available() const noexcept {
    return static_cast<std::uint32_t>(free_.size());
  }

  /// Takes a free slot and constructs its value; nullopt when full.
  template <class... Args>
  std::optional<client_num_t> emplace(Args&&... args) {
    if (free_.empty()) return std::nullopt;
    const std::uint32_t index = free_.back();
    free_.pop_back();
    auto& s = slots_[index];
    s.value.emplace(std::forward<Args>(args)...);
    return handle_of(index);
  }

  /// The value for a live handle, or nullptr for a stale/invalid one.
  T* find(client_num_t handle) noexcept {
    const auto index = static_cast<std::uint32_t>(handle);
    if (index >= slots_.size()) return nullptr;
    auto& s = slots_[index];
    if (!s.value || s.generation != static_cast<std::uint32_t>(handle >> 32)) return nullptr;
    return &*s.value;
  }

  /// The value in slot @p index if the slot is live and its generation's low 24 bits match
  /// (the width carried in a completion's user_data).
  T* find_by_tag(std::uint32_t index, std::uint32_t generation24) noexcept {
    if (index >= slots_.size()) return nullptr;
    auto& s = slots_[index];
    if (!s.value || (s.generation & 0xff'ffffu) != generation24) return nullptr;
    return &*s.value;
  }

  [[nodiscard]] client_num_t handle_of(std::uint32_t index) const noexcept {
    return (client_num_t{slots_[index].generation} << 32) | index;
  }

  /// Destroys the value and retires the handle.
  void erase(client_num_t handle) noexcept {
    const auto index = static_cast<std::uint32_t>(handle);
    auto& s = slots_[index];
    s.value.reset();
    // A completion tag carries only the low 24 bits of the generation, so after 2^24 reuses of
    // one slot two generations share a tag. That cannot confuse a completion: a slot is freed
    // only once every completion of its occupant has arrived (DESIGN.md, one close path), so
    // no tag of an older generation is ever still in flight when the slot is reused.
    ++s.generation;
    free_.push_back(index);
  }

  template <class F>
  void for_each(F&& f) {
    for (std::uint32_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].value) f(handle_of(i), *slots_[i].value);
    }
  }
  template <class F>
  void for_each(F&& f) const {
    for (std::uint32_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].value) f(handle_of(i), *slots_[i].value);
    }
  }

 private:
  struct slot {
    std::optional<T> value;
    std::uint32_t generation = 1;
  };
  std::vector<slot> slots_;
  std::vector<std::uint32_t> free_;
};

}  // namespace ns::io
