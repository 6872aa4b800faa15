// SPDX-License-Identifier: MIT
#include "server/output_queue.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace ns::server {

namespace {

// Buffers up to this size stay with an idle connection (the next small response needs no
// allocation); larger ones go to the pool when it goes idle.
constexpr std::size_t keep_capacity = 32 * 1024;
// Per-thread pool bound. Each server loop is one thread, so the pool needs no lock; it is freed
// when the thread ends. It has to hold the buffers of the connections that are between two
// bulk responses at the same moment (100 keep-alive 64 KiB downloaders: dozens), or they are
// freed and the next response page-faults fresh memory in again.
constexpr std::size_t pool_max_bytes = 16 * 1024 * 1024;
constexpr std::size_t pool_max_buffers = 128;

// Bytes the thread's queues allocated since output_queue::take_growth(). Only new allocations:
// a buffer from the pool is counted there already (the cap counts the pool).
thread_local std::size_t grown_bytes = 0;

struct buffer_pool {
  std::vector<queue_buffer> free;
  std::size_t bytes = 0;
  bool touched = false;  // a buffer was taken or given since the last release_unused_pool()

  // A buffer of at least @p n bytes: the largest pooled one, else a new one. Largest: a queue
  // that grows once usually grows to a bulk transfer's size, so it should move (copy) once.
  queue_buffer take(std::size_t n) {
    touched = true;
    auto best = free.end();
    for (auto it = free.begin(); it != free.end(); ++it) {
      if (best == free.end() || it->capacity > best->capacity) best = it;
    }
    if (best == free.end() || best->capacity < n) {
      grown_bytes += n;
      return {std::make_unique_for_overwrite<std::byte[]>(n), n};
    }
    queue_buffer b = std::move(*best);
    *best = std::move(free.back());
    free.pop_back();
    bytes -= b.capacity;
    return b;
  }

  // Only large buffers are pooled: small ones are cheap to allocate and would crowd them out.
  void give(queue_buffer&& b) noexcept {
    if (b.data && b.capacity > keep_capacity && free.size() < pool_max_buffers &&
        bytes + b.capacity <= pool_max_bytes) {
      touched = true;
      bytes += b.capacity;
      free.push_back(std::move(b));
    }
    b = {};
  }
};

buffer_pool& pool() noexcept {
  thread_local buffer_pool p;
  return p;
}

}  // namespace

std::span<std::byte> output_queue::prepare(std::size_t n) {
  const std::size_t need = filling_used_ + n;
  if (need > filling_.capacity) {
    // Geometric growth (amortised O(1) per byte); the bytes already written move once.
    queue_buffer bigger = pool().take(std::max(need, 2 * filling_.capacity));
    if (filling_used_ != 0) std::memcpy(bigger.data.get(), filling_.data.get(), filling_used_);
    pool().give(std::move(filling_));
    filling_ = std::move(bigger);
  }
  return {filling_.data.get() + filling_used_, n};
}

void output_queue::append(std::span<const std::byte> bytes) {
  if (bytes.empty()) return;
  auto dst = prepare(bytes.size());
  std::memcpy(dst.data(), bytes.data(), bytes.size());
  commit(bytes.size());
}

void output_queue::mark(write_kind kind) {
  total_queued_ = total_sent_ + queued();
  marks_.push_back({total_queued_, kind});
}

std::span<const std::byte> output_queue::next() {
  if (sent_off_ >= sending_size_) {
    std::swap(sending_, filling_);
    sending_size_ = filling_used_;
    sent_off_ = 0;
    filling_used_ = 0;
  }
  if (sending_size_ == 0) return {};
  return {sending_.data.get() + sent_off_, sending_size_ - sent_off_};
}

void output_queue::compact_marks() noexcept {
  if (marks_head_ == marks_.size()) {
    marks_.clear();
    marks_head_ = 0;
  }
}

void output_queue::trim() noexcept {
  if (!empty()) return;
  if (sending_.capacity > keep_capacity) pool().give(std::move(sending_));
  if (filling_.capacity > keep_capacity) pool().give(std::move(filling_));
  sending_size_ = 0;
  sent_off_ = 0;
  filling_used_ = 0;
}

void output_queue::release() noexcept {
  if (!empty() || marks_head_ != marks_.size()) return;
  trim();
  sending_ = {};
  filling_ = {};
  std::vector<write_mark>().swap(marks_);
  marks_head_ = 0;
}

std::size_t output_queue::take_growth() noexcept {
  return std::exchange(grown_bytes, 0);
}

std::size_t output_queue::peek_growth() noexcept {
  return grown_bytes;
}

std::size_t output_queue::release_unused_pool() noexcept {
  buffer_pool& p = pool();
  const std::size_t freed = p.touched ? 0 : p.bytes;
  if (!p.touched) {
    std::vector<queue_buffer>().swap(p.free);
    p.bytes = 0;
  }
  p.touched = false;
  return freed;
}

std::size_t output_queue::drop_pool() noexcept {
  buffer_pool& p = pool();
  const std::size_t freed = p.bytes;
  std::vector<queue_buffer>().swap(p.free);
  p.bytes = 0;
  return freed;
}

std::size_t output_queue::pooled_bytes() noexcept {
  return pool().bytes;
}

}  // namespace ns::server
