// SPDX-License-Identifier: MIT
#include "io/buffer_ring.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <system_error>

namespace ns::io {

buffer_ring::buffer_ring(io_uring* ring, std::uint16_t group_id, unsigned count, unsigned size)
    : ring_(ring), count_(count), size_(size), group_(group_id) {
  if (count == 0 || (count & (count - 1)) != 0 || count > 32768) {
    throw std::system_error(EINVAL, std::generic_category(),
                            "recv buffer count must be a power of two between 1 and 32768");
  }
  ring_bytes_ = sizeof(io_uring_buf) * count;
  data_bytes_ = std::size_t{count} * size;
  // One mapping for the ring (page aligned, as the kernel requires) and one for the data.
  void* r = mmap(nullptr, ring_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  // At most 512 KiB: fails only when the address space is exhausted. GCOVR_EXCL_BR_START
  if (r == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap buffer ring");
  // GCOVR_EXCL_BR_STOP
  void* d = mmap(nullptr, data_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (d == MAP_FAILED) {
    int err = errno;
    munmap(r, ring_bytes_);
    throw std::system_error(err, std::generic_category(), "mmap recv buffers");
  }
  br_ = static_cast<io_uring_buf_ring*>(r);
  base_ = static_cast<std::byte*>(d);
  io_uring_buf_ring_init(br_);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uint64_t>(br_);
  reg.ring_entries = count;
  reg.bgid = group_id;
  int rc = io_uring_register_buf_ring(ring_, &reg, 0);
  if (rc < 0) {
    munmap(r, ring_bytes_);
    munmap(d, data_bytes_);
    throw std::system_error(-rc, std::generic_category(),
                            "io_uring_register_buf_ring (Linux 5.19 or newer is required)");
  }
  const int mask = io_uring_buf_ring_mask(count);
  for (unsigned i = 0; i < count; ++i) {
    io_uring_buf_ring_add(br_, base_ + std::size_t{i} * size, size, static_cast<unsigned short>(i),
                          mask, static_cast<int>(i));
  }
  io_uring_buf_ring_advance(br_, static_cast<int>(count));
}

buffer_ring::~buffer_ring() {
  (void)io_uring_unregister_buf_ring(ring_, group_);
  munmap(br_, ring_bytes_);
  munmap(base_, data_bytes_);
}

void buffer_ring::recycle(std::uint16_t id) noexcept {
  io_uring_buf_ring_add(br_, base_ + std::size_t{id} * size_, size_, id,
                        io_uring_buf_ring_mask(count_), 0);
  io_uring_buf_ring_advance(br_, 1);
}

}  // namespace ns::io
