// SPDX-License-Identifier: MIT
#pragma once
// A connection's outgoing bytes (ciphertext, or plaintext in --plain mode) and the write
// callbacks waiting on them.
//
// Two buffers: `sending_` is what the kernel has been handed (stable while a send is in
// flight), `filling_` collects what is written meanwhile. When `sending_` is fully sent the two
// swap, so a partial send continues exactly where it stopped and writes leave in the order they
// were made. Each write records the stream offset at which it is complete; a completion fires
// once the bytes sent reach it. Capacity is kept for reuse (no malloc per response in steady
// state) but trimmed once idle so an idle connection holds little memory.

#include <cstddef>
#include <cstdint>
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

class output_queue {
 public:
  /// Bytes queued but not yet confirmed sent.
  [[nodiscard]] std::size_t queued() const noexcept {
    return (sending_.size() - sent_off_) + filling_.size();
  }
  [[nodiscard]] bool empty() const noexcept { return queued() == 0; }

  /// Room for @p n more bytes at the end of the queue; commit() what was written.
  std::span<std::byte> prepare(std::size_t n);
  void commit(std::size_t n) noexcept { filling_.resize(filling_used_ += n); }
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
    sending_.clear();
    filling_.clear();
    filling_used_ = 0;
    sent_off_ = 0;
    total_sent_ = total_queued_ = 0;
  }

  /// Frees buffer memory when nothing is queued (called when a connection goes idle).
  void trim() noexcept;

 private:
  void compact_marks() noexcept;

  struct write_mark {
    std::uint64_t end;
    write_kind kind;
  };
  std::vector<std::byte> sending_;
  std::size_t sent_off_ = 0;
  std::vector<std::byte> filling_;
  std::size_t filling_used_ = 0;
  std::vector<write_mark> marks_;
  std::size_t marks_head_ = 0;
  std::uint64_t total_sent_ = 0;
  std::uint64_t total_queued_ = 0;
};

}  // namespace ns::server
