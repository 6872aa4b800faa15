// SPDX-License-Identifier: MIT
#include "server/output_queue.hpp"

#include <cstring>

namespace ns::server {

namespace {
// Buffers larger than this are released when the connection goes idle; smaller ones are kept
// so the next response on a keep-alive connection does not allocate.
constexpr std::size_t keep_capacity = 32 * 1024;
}  // namespace

std::span<std::byte> output_queue::prepare(std::size_t n) {
  filling_.resize(filling_used_ + n);
  return {filling_.data() + filling_used_, n};
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
  if (sent_off_ >= sending_.size()) {
    sending_.clear();
    sent_off_ = 0;
    filling_.resize(filling_used_);
    sending_.swap(filling_);
    filling_used_ = 0;
    filling_.clear();
  }
  return {sending_.data() + sent_off_, sending_.size() - sent_off_};
}

void output_queue::compact_marks() noexcept {
  if (marks_head_ == marks_.size()) {
    marks_.clear();
    marks_head_ = 0;
  }
}

void output_queue::trim() noexcept {
  if (!empty()) return;
  if (sending_.capacity() > keep_capacity) std::vector<std::byte>().swap(sending_);
  if (filling_.capacity() > keep_capacity) std::vector<std::byte>().swap(filling_);
  sending_.clear();
  filling_.clear();
  sent_off_ = 0;
  filling_used_ = 0;
}

}  // namespace ns::server
