// SPDX-License-Identifier: MIT
#pragma once
// Handlers of descriptors the application brings: a raw descriptor (raw_adopt: any fd, read
// and written on the application's request) and an application eventfd. Neither has a
// protocol nor a deadline; both report their outcomes to the application's raw_* / event_*
// callbacks.

#include <sys/uio.h>

#include <cstdint>
#include <span>

#include "server/handler.hpp"

namespace ns::server {

class raw_handler final : public protocol_handler {
 public:
  raw_handler(core& c, transport& t) : core_(c), t_(t) {}

  static constexpr handler_kind static_kind = handler_kind::raw;
  [[nodiscard]] handler_kind kind() const noexcept override { return static_kind; }
  bool on_plaintext(std::span<const std::byte>) override { return true; }  // no recv is armed
  void on_timer() override {}                                              // none is set
  void on_completion(io::op_kind kind, const io_uring_cqe& cqe) override;
  [[nodiscard]] bool quiescent() const noexcept override { return false; }  // the app's buffers
  void account(memory_by_kind&) const noexcept override {}
  void report_closed(application_methods& app, client_num_t c) override;

  int read(std::span<std::byte> buf, std::span<const iovec> iov, bool vector);
  int write(std::span<const iovec> pieces, write_kind kind);

 private:
  core& core_;
  transport& t_;
  // One read in flight at a time, into the application's buffer(s).
  bool read_in_flight_ = false;
  bool read_is_vector_ = false;
  std::span<std::byte> read_buf_;
  std::span<const iovec> read_iov_;
};

class event_handler final : public protocol_handler {
 public:
  event_handler(core& c, transport& t) : core_(c), t_(t) {}

  static constexpr handler_kind static_kind = handler_kind::event;
  [[nodiscard]] handler_kind kind() const noexcept override { return static_kind; }
  bool on_plaintext(std::span<const std::byte>) override { return true; }  // no recv is armed
  void on_timer() override {}                                              // none is set
  void on_completion(io::op_kind kind, const io_uring_cqe& cqe) override;
  [[nodiscard]] bool quiescent() const noexcept override { return false; }
  void account(memory_by_kind&) const noexcept override {}
  void fail_owed() override;
  void report_closed(application_methods&, client_num_t) override {}  // prepare reported it

  int prepare(std::uint64_t info);

 private:
  core& core_;
  transport& t_;
  bool prepared_ = false;
  std::uint64_t info_ = 0;
  std::uint64_t buf_ = 0;
};

}  // namespace ns::server
