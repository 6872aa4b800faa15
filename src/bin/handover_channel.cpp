// SPDX-License-Identifier: MIT
#include "bin/handover_channel.hpp"

#include "handover/connection_state.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ns::serve {
namespace {

void close_all(std::vector<int>& fds) {
  for (int fd : fds) ::close(fd);
  fds.clear();
}

}  // namespace

bool send_record(int sock, const handover::record& r, std::span<const int> fds,
                 std::string& error) {
  std::vector<std::byte> bytes = handover::encode(r);
  iovec iov{bytes.data(), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  const bool sent = ::sendmsg(sock, &msg, MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  if (!sent) error = std::string("sendmsg: ") + std::strerror(errno);
  handover::wipe(bytes);  // a connection record holds traffic secrets
  return sent;
}

bool receive_record(int sock, std::chrono::milliseconds timeout, received& out,
                    std::string& error) {
  out = received{};
  pollfd p{sock, POLLIN, 0};
  const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (ready == 0) {
    error = no_answer;
    return false;
  }
  std::vector<std::byte> buf(handover::header_size + handover::max_payload + 1);
  // A connection record holds traffic secrets: whatever this buffer received is wiped.
  struct wiper {
    std::vector<std::byte>& b;
    ~wiper() { handover::wipe(b); }
  } wipe_buf{buf};
  iovec iov{buf.data(), buf.size()};
  alignas(cmsghdr) char
      control[CMSG_SPACE(sizeof(int) * handover::max_listeners) + CMSG_SPACE(sizeof(ucred))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  const ssize_t n = ready < 0 ? -1 : ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  if (n < 0) {
    error = std::string("recvmsg: ") + std::strerror(errno);
    return false;
  }
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET) continue;
    if (c->cmsg_type == SCM_RIGHTS) {
      const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < count; ++i) {
        int fd = -1;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        out.fds.push_back(fd);
      }
    } else if (c->cmsg_type == SCM_CREDENTIALS) {
      ucred cred{};
      std::memcpy(&cred, CMSG_DATA(c), sizeof(cred));
      out.pid = cred.pid;
      out.uid = cred.uid;
    }
  }
  if (n == 0) {
    out.closed = true;
    error = "the other process closed the channel";
  } else if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
    error = "a message too large for a hand-over record";
  } else {
    handover::decoder d;
    std::span<const std::byte> in(buf.data(), static_cast<std::size_t>(n));
    const handover::decode_status s = d.feed(in, out.rec);
    if (s == handover::decode_status::ready && in.empty()) return true;
    error = s == handover::decode_status::error   ? d.error()
            : s == handover::decode_status::ready ? "bytes after a hand-over record"
                                                  : "a truncated hand-over record";
  }
  close_all(out.fds);
  return false;
}

}  // namespace ns::serve
