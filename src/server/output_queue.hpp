// SPDX-License-Identifier: MIT
#pragma once
// A connection's outgoing bytes (ciphertext, or plaintext in --plain mode) and the write
// callbacks waiting on them.
//
// Two buffers: `sending_` is what the kernel has been handed (stable while a send is in
// flight), `filling_` collects what is written meanwhile. When `sending_` is fully sent the two
// swap, so a partial send continues exactly where it stopped and writes leave in the order they
// were made. Each write records the stream offset at which it is complete; a completion fires
// once the bytes sent reach it.
//
// Memory: buffers are raw (growing never zero-fills) and keep their capacity while the
// connection is busy. trim() (the connection went idle) hands a large buffer to a small
// per-thread pool instead of freeing it, and a connection that needs a large buffer takes one
// from there: a keep-alive connection serving 64 KiB responses then neither mallocs, page-faults
// nor copies on growth per response, while an idle connection still holds only a small buffer.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace ns::server {

/// Which callback a queued write owes the application.
enum class write_kind : std::uint8_t {
  http_write,
  http_writev,
  raw_write,
  raw_writev,
  internal,
  ws_write,
  ws_writev,
};

/// A byte buffer whose growth does not zero-fill (the queue writes every byte it commits).
struct queue_buffer {
  std::unique_ptr<std::byte[]> data;
  std::size_t capacity = 0;
};

class output_queue {
 public:
  /// Bytes queued but not yet confirmed sent.
  [[nodiscard]] std::size_t queued() const noexcept {
    return (sending_size_ - sent_off_) + filling_used_;
  }
  [[nodiscard]] bool empty() const noexcept { return queued() == 0; }
  /// Bytes of buffer the queue holds (memory accounting).
  [[nodiscard]] std::size_t capacity() const noexcept {
    return sending_.capacity + filling_.capacity;
  }

  /// Room for @p n more bytes at the end of the queue (contents unspecified); commit() what
  /// was written. Valid until the next non-const call.
  std::span<std::byte> prepare(std::size_t n);
  void commit(std::size_t n) noexcept { filling_used_ += n; }
  void append(std::span<const std::byte> bytes);

  /// Marks the end of one write: @p kind's callback fires when everything queued so far is sent.
  void mark(write_kind kind);

  /// The next bytes to hand to send(); empty when nothing is queued. Stable until on_sent().
  std::span<const std::byte> next();

  /// @p n bytes of next() were sent. Calls done(kind) for every write now complete.
  template <class F>
  void on_sent(std::size_t n, F&& done) {
    sent_off_ += n;
    total_sent_ += n;
    while (marks_head_ < marks_.size() && marks_[marks_head_].end <= total_sent_) {
      const write_kind k = marks_[marks_head_++].kind;
      done(k);
    }
    compact_marks();
  }

  /// Drops every queued byte; calls done(kind) for every write not yet complete (failed).
  template <class F>
  void fail_all(F&& done) {
    while (marks_head_ < marks_.size()) done(marks_[marks_head_++].kind);
    marks_.clear();
    marks_head_ = 0;
    sending_size_ = 0;
    filling_used_ = 0;
    sent_off_ = 0;
    total_sent_ = total_queued_ = 0;
  }

  /// When nothing is queued (the connection goes idle): large buffers go back to the thread's
  /// pool (or are freed when it is full); small ones stay for the next response.
  void trim() noexcept;
  /// When nothing is queued and no callback is owed (the connection has stayed idle for a
  /// while: server_idle.cpp): trim(), and the small buffers are freed too.
  void release() noexcept;

  /// Frees the calling thread's pooled buffers if none was taken or given since the previous
  /// call (a loop calls it every few seconds: after a burst of bulk responses the pool would
  /// otherwise stay in use, beyond the reach of the memory trimmer). Returns the bytes freed.
  static std::size_t release_unused_pool() noexcept;
  /// Bytes the calling thread's queues newly allocated since the previous call (a buffer
  /// reused from the pool is counted in the pool already): the memory cap's cheap check between
  /// two full counts (memory_cap.cpp); and restart.
  static std::size_t take_growth() noexcept;
  /// The same, without restarting.
  [[nodiscard]] static std::size_t peek_growth() noexcept;
  /// Frees the calling thread's pooled buffers now (over the memory cap); returns the bytes.
  static std::size_t drop_pool() noexcept;
  /// Bytes the calling thread's pool holds (for tests).
  [[nodiscard]] static std::size_t pooled_bytes() noexcept;

 private:
  void compact_marks() noexcept;

  struct write_mark {
    std::uint64_t end;
    write_kind kind;
  };
  queue_buffer sending_;
  std::size_t sending_size_ = 0;
  std::size_t sent_off_ = 0;
  queue_buffer filling_;
  std::size_t filling_used_ = 0;
  std::vector<write_mark> marks_;
  std::size_t marks_head_ = 0;
  std::uint64_t total_sent_ = 0;
  std::uint64_t total_queued_ = 0;
};

}  // namespace ns::server
