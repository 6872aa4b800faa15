// SPDX-License-Identifier: MIT
#pragma once
// A provided-buffer ring (IORING_REGISTER_PBUF_RING) for multishot recv.
//
// The kernel picks a free buffer for each recv completion and tells us its id in the CQE flags.
// We lend the bytes to the TLS layer for the duration of one CQE and give the buffer back
// straight away (liburing's recycle_buffer): no per-connection receive buffer exists, so an idle
// connection costs no receive memory. When the ring runs dry the kernel ends the multishot recv
// with -ENOBUFS; the connection re-arms it after buffers were returned.

#include <liburing.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace ns::io {

class buffer_ring {
 public:
  /// @p count must be a power of two (≤ 32768). Throws std::system_error at setup on failure.
  buffer_ring(io_uring* ring, std::uint16_t group_id, unsigned count, unsigned size);
  ~buffer_ring();
  buffer_ring(const buffer_ring&) = delete;
  buffer_ring& operator=(const buffer_ring&) = delete;

  [[nodiscard]] std::uint16_t group_id() const noexcept { return group_; }
  [[nodiscard]] unsigned buffer_size() const noexcept { return size_; }

  /// The bytes of buffer @p id as filled by a completion of @p len bytes.
  [[nodiscard]] std::span<const std::byte> view(std::uint16_t id, std::size_t len) const noexcept {
    return {base_ + std::size_t{id} * size_, len};
  }

  /// Returns buffer @p id to the kernel.
  void recycle(std::uint16_t id) noexcept;

 private:
  io_uring* ring_;
  io_uring_buf_ring* br_ = nullptr;
  std::byte* base_ = nullptr;
  std::size_t ring_bytes_ = 0;
  std::size_t data_bytes_ = 0;
  unsigned count_;
  unsigned size_;
  std::uint16_t group_;
};

}  // namespace ns::io
