// SPDX-License-Identifier: MIT
// topic_hub: routes a publish to the loops that have subscribers, and keeps the engine's view
// (which topics the process subscribes to) in step with the loops'.
//
// Locking: one mutex, held to read or change the topic → loops map and, while held, to hand a
// message to other loops (so a loop that detaches is never posted to afterwards) and to tell
// the engine of a first or last subscriber (so those calls arrive in the order of the changes).
// Lock order: hub, then a loop's post queue; nothing holding a loop's lock takes the hub's.
#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <random>
#include <utility>

#include "server/topic_hub_impl.hpp"

namespace ns {
namespace server {

topic_message::topic_message(std::string_view topic, std::span<const std::byte> data,
                             ws_message_type type)
    : topic_size_(topic.size()), type_(type) {
  bytes_.reserve(topic.size() + data.size());
  bytes_.append(topic);
  bytes_.append(reinterpret_cast<const char*>(data.data()), data.size());
}

topic_loop*& current_loop() noexcept {
  thread_local topic_loop* loop = nullptr;
  return loop;
}

}  // namespace server

namespace {

std::string random_origin() {
  unsigned char raw[16];
  if (getrandom(raw, sizeof(raw), 0) != static_cast<ssize_t>(sizeof(raw))) {
    std::random_device rd;  // getrandom(2) missing or interrupted: still unpredictable enough
    for (unsigned char& b : raw) b = static_cast<unsigned char>(rd());
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : raw) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

}  // namespace

topic_hub::impl::impl() : origin_(random_origin()) {}

void topic_hub::impl::attach(server::topic_loop* loop) {
  std::lock_guard lock(m_);
  loops_.push_back(loop);
}

void topic_hub::impl::detach(server::topic_loop* loop) {
  std::lock_guard lock(m_);
  std::erase(loops_, loop);
  // Its connections have closed by now; whatever it still held (a server destroyed without
  // running) leaves here, and the engine hears of topics nobody else holds.
  for (auto it = topics_.begin(); it != topics_.end();) {
    std::erase(it->second, loop);
    if (!it->second.empty()) {
      ++it;
      continue;
    }
    if (engine_) engine_->on_last_unsubscribed(it->first);
    it = topics_.erase(it);
  }
}

void topic_hub::impl::joined(server::topic_loop* loop, std::string_view topic) {
  std::lock_guard lock(m_);
  auto it = topics_.find(topic);
  if (it != topics_.end()) {
    it->second.push_back(loop);
    return;
  }
  topics_.emplace(std::string(topic), std::vector<server::topic_loop*>{loop});
  if (engine_) engine_->on_first_subscriber(topic);
}

void topic_hub::impl::left(server::topic_loop* loop, std::string_view topic) {
  std::lock_guard lock(m_);
  const auto it = topics_.find(topic);
  if (it == topics_.end()) return;
  std::erase(it->second, loop);
  if (!it->second.empty()) return;
  topics_.erase(it);
  if (engine_) engine_->on_last_unsubscribed(topic);
}

std::size_t topic_hub::impl::route(std::string_view topic, std::span<const std::byte> data,
                                   ws_message_type type, bool local) {
  server::topic_loop* here = server::current_loop();
  std::shared_ptr<topic_engine> engine;
  bool here_subscribed = false;
  std::size_t reached = 0;
  {
    std::lock_guard lock(m_);
    if (here != nullptr && std::find(loops_.begin(), loops_.end(), here) == loops_.end()) {
      here = nullptr;  // a loop of another hub: this thread is a foreign one for us
    }
    if (local) engine = engine_;
    const auto it = topics_.find(topic);
    if (it != topics_.end()) {
      std::shared_ptr<const server::topic_message> copy;  // made once, for all other loops
      for (server::topic_loop* loop : it->second) {
        ++reached;
        if (loop == here) {
          here_subscribed = true;
          continue;
        }
        if (!copy) copy = std::make_shared<const server::topic_message>(topic, data, type);
        loop->post_message(copy);
      }
    }
  }
  if (local) {
    published_.fetch_add(1, std::memory_order_relaxed);
    if (here != nullptr) here->note_published();
  }
  // The calling loop's subscribers get it now, without a copy: @p data is still valid.
  if (here_subscribed) here->deliver_here(topic, data, type);
  if (engine) engine->publish(topic, data, type);
  return reached;
}

void topic_hub::impl::set_engine(std::shared_ptr<topic_engine> engine) {
  std::shared_ptr<topic_engine> old;
  {
    std::lock_guard lock(m_);
    old = std::exchange(engine_, std::move(engine));
    if (engine_) {
      for (const auto& [topic, loops] : topics_) engine_->on_first_subscriber(topic);
    }
  }
  // The old engine goes after the lock is released: its destructor may join a thread.
}

topic_hub_stats topic_hub::impl::stats() const {
  topic_hub_stats s;
  {
    std::lock_guard lock(m_);
    s.topics = topics_.size();
  }
  s.published = published_.load(std::memory_order_relaxed);
  s.injected = injected_.load(std::memory_order_relaxed);
  return s;
}

// ---- the public face ------------------------------------------------------------------------

topic_hub::topic_hub(std::unique_ptr<impl> i) : impl_(std::move(i)) {}
topic_hub::~topic_hub() = default;

std::shared_ptr<topic_hub> topic_hub::create() {
  return std::shared_ptr<topic_hub>(new topic_hub(std::make_unique<impl>()));
}

int topic_hub::publish(std::string_view topic, std::span<const std::byte> data,
                       ws_message_type type) {
  if (topic.size() > max_topic_bytes) return -EINVAL;
  impl_->route(topic, data, type, true);
  return 0;
}

void topic_hub::set_engine(std::shared_ptr<topic_engine> engine) {
  impl_->set_engine(std::move(engine));
}

std::string_view topic_hub::origin() const noexcept {
  return impl_->origin();
}

int topic_hub::inject(std::string_view origin, std::string_view topic,
                      std::span<const std::byte> data, ws_message_type type) {
  if (topic.size() > max_topic_bytes) return -EINVAL;
  if (origin == impl_->origin()) return 0;  // our own publish, back from the engine
  impl_->count_injected();
  return static_cast<int>(impl_->route(topic, data, type, false));
}

topic_hub_stats topic_hub::stats() const {
  return impl_->stats();
}

}  // namespace ns
