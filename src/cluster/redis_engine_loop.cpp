// SPDX-License-Identifier: MIT
// The Redis engine's thread: one io_uring drives both hiredis links (redis_link.hpp), the
// eventfd through which the hub's threads hand over work, and the reconnect timers.
//
// Subscriptions follow the hub: a channel is in channels_ while the process has a subscriber
// to its topic; a ready subscriber link is told every change, one SUBSCRIBE or UNSUBSCRIBE per
// run of changes, and a fresh one (after a reconnect) the whole set. Publishes go out as soon
// as the publisher link is ready, without waiting for replies (pipelined: hiredis appends each
// command to its output buffer and the next writable event sends them all).
#include <algorithm>
#include <chrono>
#include <cstring>

#include "cluster/redis_engine_core.hpp"
#include "server/log.hpp"
#include "ws/utf8.hpp"

namespace ns {
namespace {

using clock = std::chrono::steady_clock;

constexpr std::size_t channels_per_command = 1024;

const char* role_name(cluster::link_role r) {
  return r == cluster::link_role::subscriber ? "subscriber" : "publisher";
}

std::string_view string_of(const redisReply* r) {
  return std::string_view(r->str, r->len);
}

bool is_string(const redisReply* r) {
  return r != nullptr && r->type == REDIS_REPLY_STRING;
}

}  // namespace

void redis_engine::core::run() {
  ring_->attach_to_current_thread();
  arm_wake();
  sub_->connect();
  pub_->connect();
  while (!stop_requested_) {
    auto timeout = std::chrono::milliseconds(1000);
    const auto now = clock::now();
    for (const auto* link : {sub_.get(), pub_.get()}) {
      if (const auto d = link->deadline()) {
        // Rounded up: a wait cut short by rounding down would spin until the deadline.
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(*d - now);
        timeout = std::clamp(left, std::chrono::milliseconds(0), timeout);
      }
    }
    ring_->submit_and_wait(timeout);
    ring_->drain([this](const io_uring_cqe& cqe) { dispatch(cqe); });
    const auto later = clock::now();
    sub_->on_time(later);
    pub_->on_time(later);
    if (!wake_armed_ && !stop_requested_) arm_wake();
  }
  shut_down();
}

void redis_engine::core::dispatch(const io_uring_cqe& cqe) {
  switch (cluster::role_of(cqe.user_data)) {
    case cluster::link_role::subscriber:
      sub_->on_completion(cqe);
      return;
    case cluster::link_role::publisher:
      pub_->on_completion(cqe);
      return;
    case cluster::link_role::engine:
      break;
  }
  if (cluster::op_of(cqe.user_data) != cluster::ring_op::wake) return;  // its cancel
  wake_armed_ = false;
  if (!stop_requested_) take_ops();
}

void redis_engine::core::arm_wake() {
  io_uring_sqe* sqe = ring_->get_sqe();
  if (sqe == nullptr) return;  // retried after the next completion batch (see run)
  io_uring_prep_read(sqe, wake_fd_, &wake_value_, sizeof(wake_value_), 0);
  io_uring_sqe_set_data64(
      sqe, cluster::encode_op(cluster::ring_op::wake, cluster::link_role::engine, 0));
  wake_armed_ = true;
}

void redis_engine::core::take_ops() {
  {
    std::lock_guard lock(m_);
    taken_.swap(ops_);
    wake_pending_ = false;
    stop_requested_ = stopping_;
  }
  // Consecutive changes of one kind become one command; the order of kinds is kept, so a topic
  // left and joined again in one batch ends subscribed.
  std::vector<const std::string*> run;
  op_kind run_kind = op_kind::subscribe;
  for (op& o : taken_) {
    if (o.kind == op_kind::publish) {
      send_publish(std::move(o.bytes));
      continue;
    }
    const bool changed = o.kind == op_kind::subscribe ? channels_.insert(o.bytes).second
                                                      : channels_.erase(o.bytes) == 1;
    if (!changed || !sub_->ready()) continue;  // a link that is not ready gets the set later
    if (!run.empty() && run_kind != o.kind) send_subscriptions(run_kind, run);
    run_kind = o.kind;
    run.push_back(&o.bytes);
  }
  if (!run.empty()) send_subscriptions(run_kind, run);
  taken_.clear();
  // A burst (up to the queue bound: ~10^5 small publishes) must not pin its vector for good.
  if (taken_.capacity() > 4096) std::vector<op>().swap(taken_);
  n_.channels.store(channels_.size(), std::memory_order_relaxed);
}

void redis_engine::core::send_subscriptions(op_kind kind, std::vector<const std::string*>& names) {
  const bool sub = kind == op_kind::subscribe;
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (std::size_t at = 0; at < names.size(); at += channels_per_command) {
    const std::size_t end = std::min(names.size(), at + channels_per_command);
    argv.assign(1, sub ? "SUBSCRIBE" : "UNSUBSCRIBE");
    lens.assign(1, sub ? 9 : 11);
    for (std::size_t i = at; i < end; ++i) {
      argv.push_back(names[i]->data());
      lens.push_back(names[i]->size());
    }
    // An UNSUBSCRIBE hiredis refuses (it sees no subscription left) has nothing to undo.
    (void)redisAsyncCommandArgv(sub_->context(), sub ? on_message : nullptr, this,
                                static_cast<int>(argv.size()), argv.data(), lens.data());
  }
  names.clear();
}

void redis_engine::core::send_publish(std::string command) {
  if (pub_->ready() && backlog_.empty()) {
    write_publish(command);
  } else {
    backlog_.push_back(std::move(command));
  }
}

void redis_engine::core::write_publish(const std::string& command) {
  // The size rides along as the callback's data: no allocation per publish of our own.
  void* bytes = reinterpret_cast<void*>(static_cast<std::uintptr_t>(command.size()));
  if (redisAsyncFormattedCommand(pub_->context(), on_published, bytes, command.data(),
                                 command.size()) != REDIS_OK) {
    n_.lost_in_flight.fetch_add(1, std::memory_order_relaxed);
    release(command.size());
  }
}

void redis_engine::core::on_published(redisAsyncContext* ac, void* reply, void* bytes) {
  auto& self = static_cast<core&>(static_cast<cluster::redis_link*>(ac->data)->owner());
  self.release(static_cast<std::size_t>(reinterpret_cast<std::uintptr_t>(bytes)));
  const auto* r = static_cast<const redisReply*>(reply);
  if (r == nullptr) {
    self.n_.lost_in_flight.fetch_add(1, std::memory_order_relaxed);
  } else if (r->type == REDIS_REPLY_ERROR) {
    self.n_.refused.fetch_add(1, std::memory_order_relaxed);
  } else {
    self.n_.published.fetch_add(1, std::memory_order_relaxed);
  }
}

void redis_engine::core::on_message(redisAsyncContext*, void* reply, void* self) {
  // NULL: the link is going away; anything else is a subscribe confirmation or a message.
  if (reply != nullptr) static_cast<core*>(self)->deliver(*static_cast<const redisReply*>(reply));
}

void redis_engine::core::deliver(const redisReply& m) {
  // ["message", channel, payload]; "subscribe"/"unsubscribe" confirmations need nothing.
  if (m.type != REDIS_REPLY_ARRAY || m.elements != 3 || !is_string(m.element[0]) ||
      string_of(m.element[0]) != "message") {
    return;
  }
  const redisReply* channel = m.element[1];
  const redisReply* payload = m.element[2];
  const auto drop = [&](std::atomic<std::uint64_t>& counter, std::string_view why) {
    counter.fetch_add(1, std::memory_order_relaxed);
    if (std::exchange(malformed_reported_, true)) return;
    NS_LOG(log_level::warn, "redis: dropped a message on channel '", string_of(channel), "' (", why,
           "); further ones are only counted");
  };
  if (!is_string(channel) || !is_string(payload)) return drop(n_.malformed, "not a string");
  const auto topic =
      cluster::topic_of_channel(options_.channel_prefix, string_of(channel), max_topic_bytes);
  if (!topic) return drop(n_.malformed, "not a topic channel");
  const auto bytes = std::as_bytes(std::span(payload->str, payload->len));
  const cluster::decode_result r = cluster::decode_envelope(bytes, options_.max_message_bytes);
  if (r.status == cluster::decode_status::oversized)
    return drop(n_.oversized, cluster::describe(r.status));
  if (r.status != cluster::decode_status::ok)
    return drop(n_.malformed, cluster::describe(r.status));
  if (r.value.origin == origin_) {
    n_.own_echoes.fetch_add(1, std::memory_order_relaxed);  // our subscribers have it already
    return;
  }
  const bool text = r.value.type == cluster::payload_type::text;
  if (text) {
    // A text frame must be UTF-8 (RFC 6455 §8.1): another instance's word is not enough.
    ws::utf8_validator utf8;
    if (!utf8.feed(r.value.payload) || !utf8.complete()) return drop(n_.malformed, "not UTF-8");
  }
  const std::shared_ptr<topic_hub> hub = hub_.lock();
  if (!hub) return;
  n_.received.fetch_add(1, std::memory_order_relaxed);
  hub->inject(r.value.origin, *topic, r.value.payload,
              text ? ws_message_type::text : ws_message_type::binary);
}

void redis_engine::core::link_ready(cluster::redis_link& link) {
  n_.connects.fetch_add(1, std::memory_order_relaxed);
  if (&link == sub_.get()) {
    std::vector<const std::string*> all;
    all.reserve(channels_.size());
    for (const std::string& c : channels_) all.push_back(&c);
    if (!all.empty()) send_subscriptions(op_kind::subscribe, all);
  } else {
    while (!backlog_.empty()) {
      write_publish(backlog_.front());
      backlog_.pop_front();
    }
  }
  if (!sub_->ready() || !pub_->ready()) return;
  n_.connected.store(true, std::memory_order_relaxed);
  if (outage_reported_ || !ever_connected_) {
    NS_LOG(log_level::info, "redis: connected to ", description_, " (", channels_.size(),
           " channel(s) subscribed)");
  }
  outage_reported_ = false;
  ever_connected_ = true;
}

void redis_engine::core::link_down(cluster::redis_link& link, std::string_view why,
                                   bool was_ready) {
  n_.connected.store(false, std::memory_order_relaxed);
  if (was_ready) {
    auto& counter = &link == sub_.get() ? n_.sub_disconnects : n_.pub_disconnects;
    counter.fetch_add(1, std::memory_order_relaxed);
  }
  if (std::exchange(outage_reported_, true)) return;
  if (was_ready) {
    NS_LOG(log_level::warn, "redis: lost the ", role_name(link.role()), " link to ", description_,
           " (", why, "); topics reach only this process until it is back, reconnecting");
  } else {
    NS_LOG(log_level::warn, "redis: cannot reach ", description_, " (", why,
           "); topics reach only this process until it can, retrying");
  }
}

void redis_engine::core::shut_down() {
  sub_->close();  // pending publish callbacks run now, with NULL replies (counted as lost)
  pub_->close();
  for (const std::string& c : backlog_) release(c.size());
  backlog_.clear();
  // ops_ is empty: stop was seen with the last batch, and push() refuses everything after it;
  // the wake-up read is not re-armed once stop was seen.
  // Wait (bounded) for the cancelled polls, so none outlives the ring.
  const auto until = clock::now() + std::chrono::seconds(1);
  while (sub_->in_flight() + pub_->in_flight() > 0 && clock::now() < until) {
    ring_->submit_and_wait(std::chrono::milliseconds(100));
    ring_->drain([this](const io_uring_cqe& cqe) { dispatch(cqe); });
  }
}

}  // namespace ns
