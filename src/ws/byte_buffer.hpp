// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Growable byte buffer that never zero-fills and keeps its capacity across clear().

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>

namespace ns::ws {

/// Contiguous bytes with uninitialised growth: `prepare(n)` returns room for n bytes, `commit(k)`
/// makes k of them part of the content. clear() keeps the allocation, so a connection that has
/// seen a message of size N receives further messages up to N without allocating.
class byte_buffer {
 public:
  byte_buffer() = default;
  byte_buffer(const byte_buffer&) = delete;
  byte_buffer& operator=(const byte_buffer&) = delete;
  byte_buffer(byte_buffer&&) noexcept = default;
  byte_buffer& operator=(byte_buffer&&) noexcept = default;

  /// Writable room for at least @p n bytes after the content (invalidates earlier views).
  std::byte* prepare(std::size_t n) {
    if (capacity_ - size_ < n) {
      const std::size_t cap = std::max(size_ + n, capacity_ + capacity_ / 2);
      std::unique_ptr<std::byte[]> p(new std::byte[cap]);
      if (size_ != 0) std::memcpy(p.get(), data_.get(), size_);
      data_ = std::move(p);
      capacity_ = cap;
    }
    return data_.get() + size_;
  }
  /// Makes the capacity at least @p n (exactly n if it grows), keeping the content.
  void reserve(std::size_t n) {
    if (n <= capacity_) return;
    std::unique_ptr<std::byte[]> p(new std::byte[n]);
    if (size_ != 0) std::memcpy(p.get(), data_.get(), size_);
    data_ = std::move(p);
    capacity_ = n;
  }
  /// Appends @p n bytes previously written into prepare()'s room.
  void commit(std::size_t n) noexcept { size_ += n; }
  /// Copies @p bytes to the end.
  void append(std::span<const std::byte> bytes) {
    if (bytes.empty()) return;
    std::memcpy(prepare(bytes.size()), bytes.data(), bytes.size());
    commit(bytes.size());
  }
  /// Drops the first @p n bytes (moves the rest to the front).
  void consume(std::size_t n) noexcept {
    n = std::min(n, size_);
    if (n != size_) std::memmove(data_.get(), data_.get() + n, size_ - n);
    size_ -= n;
  }
  /// Shrinks the content to @p n bytes (n ≤ size()).
  void truncate(std::size_t n) noexcept { size_ = std::min(n, size_); }
  void clear() noexcept { size_ = 0; }
  /// Frees the allocation.
  void release() noexcept {
    data_.reset();
    size_ = capacity_ = 0;
  }

  [[nodiscard]] std::byte* data() noexcept { return data_.get(); }
  [[nodiscard]] const std::byte* data() const noexcept { return data_.get(); }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::span<const std::byte> span() const noexcept { return {data_.get(), size_}; }

 private:
  std::unique_ptr<std::byte[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace ns::ws
