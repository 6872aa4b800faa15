// SPDX-License-Identifier: MIT
// redis_engine: the public face, and the side of the core the hub's threads call (queueing
// only: none of it waits on Redis or on the engine's thread).
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <random>
#include <stdexcept>
#include <system_error>

#include "cluster/redis_engine_core.hpp"

namespace ns {
namespace {

cluster::redis_endpoint parse_or_throw(const std::string& url) {
  cluster::redis_endpoint where;
  std::string error;
  if (!cluster::parse_redis_url(url, where, error)) throw std::invalid_argument(error);
  return where;
}

cluster::payload_type payload_of(ws_message_type t) noexcept {
  return t == ws_message_type::text ? cluster::payload_type::text : cluster::payload_type::binary;
}

}  // namespace

redis_engine::core::core(const std::shared_ptr<topic_hub>& hub, redis_options options,
                         cluster::redis_endpoint where)
    : hub_(hub),
      origin_(hub->origin()),
      options_(std::move(options)),
      where_(std::move(where)),
      description_(where_.describe()) {
  wake_fd_ = eventfd(0, EFD_CLOEXEC);
  if (wake_fd_ < 0)
    throw std::system_error(errno, std::generic_category(), "redis engine: eventfd");
  try {
    ring_ = std::make_unique<io::ring>(64);
  } catch (...) {
    ::close(wake_fd_);  // the destructor does not run for a constructor that throws
    throw;
  }
  std::random_device seed;
  const cluster::link_timing timing{options_.reconnect_min, options_.reconnect_max,
                                    options_.connect_timeout};
  sub_ = std::make_unique<cluster::redis_link>(*ring_, where_, cluster::link_role::subscriber,
                                               "ns-sub-" + origin_, *this, timing, seed());
  pub_ = std::make_unique<cluster::redis_link>(*ring_, where_, cluster::link_role::publisher,
                                               "ns-pub-" + origin_, *this, timing, seed());
}

redis_engine::core::~core() {
  // The links go before the ring they were built on.
  sub_.reset();
  pub_.reset();
  ring_.reset();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void redis_engine::core::start(std::shared_ptr<core> self) {
  thread_ = std::thread([self = std::move(self)] { self->run(); });
}

void redis_engine::core::stop() {
  {
    std::lock_guard lock(m_);
    if (stopping_) return;
    stopping_ = true;
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  if (!thread_.joinable()) return;
  // The hub's last owner can be the engine's thread itself (it holds the hub while it hands
  // a message in): it cannot join itself, and finishes on its own, keeping the core alive.
  if (thread_.get_id() == std::this_thread::get_id()) {
    thread_.detach();
  } else {
    thread_.join();
  }
}

void redis_engine::core::push(op o) {
  bool wake = false;
  {
    std::lock_guard lock(m_);
    if (stopping_) {
      if (o.kind == op_kind::publish) queued_bytes_.fetch_sub(o.bytes.size());
      return;
    }
    ops_.push_back(std::move(o));
    wake = !std::exchange(wake_pending_, true);
  }
  // One write per batch: the engine's thread takes every queued op when it wakes.
  if (wake) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  }
}

void redis_engine::core::subscribe(std::string_view topic) {
  push({op_kind::subscribe, cluster::channel_name(options_.channel_prefix, topic)});
}

void redis_engine::core::unsubscribe(std::string_view topic) {
  push({op_kind::unsubscribe, cluster::channel_name(options_.channel_prefix, topic)});
}

void redis_engine::core::publish(std::string_view topic, std::span<const std::byte> data,
                                 ws_message_type type) {
  std::string command;
  if (data.size() > options_.max_message_bytes ||
      !cluster::format_publish(command, cluster::channel_name(options_.channel_prefix, topic),
                               origin_, payload_of(type), data)) {
    n_.too_large.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const std::size_t size = command.size();
  std::size_t charged = queued_bytes_.load(std::memory_order_relaxed);
  do {
    if (charged + size > options_.max_queued_bytes) {
      n_.queue_full.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  } while (!queued_bytes_.compare_exchange_weak(charged, charged + size));
  push({op_kind::publish, std::move(command)});
}

redis_engine_stats redis_engine::core::stats() const {
  constexpr auto r = std::memory_order_relaxed;
  redis_engine_stats s;
  s.connected = n_.connected.load(r);
  s.channels = n_.channels.load(r);
  s.published = n_.published.load(r);
  s.received = n_.received.load(r);
  s.own_echoes = n_.own_echoes.load(r);
  s.connects = n_.connects.load(r);
  s.subscriber_disconnects = n_.sub_disconnects.load(r);
  s.publisher_disconnects = n_.pub_disconnects.load(r);
  s.dropped.malformed = n_.malformed.load(r);
  s.dropped.oversized = n_.oversized.load(r);
  s.dropped.too_large = n_.too_large.load(r);
  s.dropped.queue_full = n_.queue_full.load(r);
  s.dropped.lost_in_flight = n_.lost_in_flight.load(r);
  s.dropped.refused = n_.refused.load(r);
  return s;
}

// ---- the public face ------------------------------------------------------------------------

std::shared_ptr<redis_engine> redis_engine::start(const std::shared_ptr<topic_hub>& hub,
                                                  redis_options options) {
  if (!hub) throw std::invalid_argument("redis engine: no hub");
  if (options.reconnect_min.count() <= 0 || options.reconnect_max < options.reconnect_min ||
      options.connect_timeout.count() <= 0) {
    throw std::invalid_argument(
        "redis engine: reconnect_min and connect_timeout must be positive, reconnect_max at "
        "least reconnect_min");
  }
  auto where = parse_or_throw(options.url);
  auto c = std::make_shared<core>(hub, std::move(options), std::move(where));
  c->start(c);
  std::shared_ptr<redis_engine> engine(new redis_engine(std::move(c)));
  hub->set_engine(engine);  // announces the topics that already have subscribers
  return engine;
}

redis_engine::redis_engine(std::shared_ptr<core> c) : core_(std::move(c)) {}

redis_engine::~redis_engine() {
  core_->stop();
}

redis_engine_stats redis_engine::stats() const {
  return core_->stats();
}

std::string redis_engine::describe() const {
  return core_->where().describe();
}

void redis_engine::on_first_subscriber(std::string_view topic) {
  core_->subscribe(topic);
}

void redis_engine::on_last_unsubscribed(std::string_view topic) {
  core_->unsubscribe(topic);
}

void redis_engine::publish(std::string_view topic, std::span<const std::byte> data,
                           ws_message_type type) {
  core_->publish(topic, data, type);
}

}  // namespace ns
