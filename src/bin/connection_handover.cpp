// SPDX-License-Identifier: MIT
#include "bin/connection_handover.hpp"

#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "bin/handover_channel.hpp"
#include "handover/connection_state.hpp"

namespace ns::serve {

using clock = std::chrono::steady_clock;

channel_mover::channel_mover(int channel, std::chrono::milliseconds answer_timeout)
    : channel_(channel), answer_timeout_(answer_timeout) {}

channel_mover::~channel_mover() {
  if (channel_ >= 0) ::close(channel_);
}

bool channel_mover::move(int fd, std::span<const std::byte> state) {
  std::lock_guard lock(mutex_);
  if (broken_) return false;
  handover::record r;
  r.type = handover::record_type::connection;
  r.id = next_id_++;
  r.state.assign(state.begin(), state.end());
  std::string error;
  const int fds[] = {fd};
  const bool sent = send_record(channel_, r, fds, error);
  handover::wipe(r.state);
  received answer;
  if (sent && receive_record(channel_, answer_timeout_, answer, error)) {
    if (answer.rec.type == handover::record_type::adopted && answer.rec.id == r.id &&
        answer.fds.empty()) {
      if (answer.rec.ok) ++moved_;
      return answer.rec.ok;
    }
    error = "an answer that is not the adoption of connection " + std::to_string(r.id);
    for (int f : answer.fds) ::close(f);
  }
  // The successor may have taken the socket and not said so: stop offering, keep serving.
  broken_ = true;
  std::fprintf(stderr, "ns_serve: moving connections stopped, the rest drain here: %s\n",
               error.c_str());
  return false;
}

void channel_mover::released() {
  std::lock_guard lock(mutex_);
  handover::record r;  // even after a failed move: the successor must recheck its accepts
  r.type = handover::record_type::released;
  std::string ignored;  // a successor that is gone rechecks nothing; ours drain on
  send_record(channel_, r, {}, ignored);
}

void release_listeners(channel_mover& mover,
                       std::span<const std::unique_ptr<network_server>> servers,
                       std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  const auto accepting = [&] {
    for (const auto& s : servers) {
      if (s->accepting()) return true;
    }
    return false;
  };
  // The drain's cancel of each accept completes within a loop turn.
  while (accepting() && clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  mover.released();
}

std::thread receive_moves(int channel, std::span<const std::unique_ptr<network_server>> servers,
                          const std::atomic<bool>& stop) {
  if (channel < 0) return {};
  return std::thread([channel, servers, &stop] {
    const auto recheck = [&] {
      for (const auto& s : servers) s->recheck_accept();
    };
    std::size_t next = 0;
    while (!stop.load()) {
      received in;
      std::string error;
      if (!receive_record(channel, std::chrono::milliseconds(100), in, error)) {
        if (error == no_answer) continue;  // look at stop again
        // End of file (the old process is gone) or a channel we cannot read: it stopped
        // accepting either way.
        if (!in.closed) std::fprintf(stderr, "ns_serve: hand-over channel: %s\n", error.c_str());
        recheck();
        break;
      }
      if (in.rec.type == handover::record_type::released) {
        recheck();
        continue;
      }
      if (in.rec.type != handover::record_type::connection || in.fds.size() != 1) {
        for (int f : in.fds) ::close(f);
        continue;
      }
      const int rc = servers[next++ % servers.size()]->adopt_connection(in.fds[0], in.rec.state);
      handover::wipe(in.rec.state);
      if (rc != 0) ::close(in.fds[0]);  // the old process keeps and drains its own
      handover::record answer;
      answer.type = handover::record_type::adopted;
      answer.id = in.rec.id;
      answer.ok = rc == 0;
      std::string ignored;
      send_record(channel, answer, {}, ignored);
    }
    ::close(channel);
  });
}

}  // namespace ns::serve
