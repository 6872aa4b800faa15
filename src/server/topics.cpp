// SPDX-License-Identifier: MIT
// The topics of one loop: subscriptions, the hub link, delivery (topics.hpp).
#include "server/topics.hpp"

#include <cerrno>

#include "server/core.hpp"

namespace ns::server {

topic_service::topic_service(network_server::impl& loop, std::shared_ptr<topic_hub> hub)
    : loop_(loop), hub_(hub ? std::move(hub) : topic_hub::create()) {
  hub_->internal().attach(this);
  attached_ = true;
}

topic_service::~topic_service() {
  detach();
}

void topic_service::detach() {
  if (!attached_) return;
  attached_ = false;
  hub_->internal().detach(this);
}

int topic_service::subscribe(client_num_t c, std::string_view topic) {
  if (topic.size() > max_topic_bytes) return -EINVAL;
  const topic_registry::change ch = registry_.subscribe(c, topic);
  if (!ch.changed) return -EEXIST;
  if (ch.edge) hub_->internal().joined(this, topic);
  return 0;
}

int topic_service::unsubscribe(client_num_t c, std::string_view topic) {
  if (topic.size() > max_topic_bytes) return -EINVAL;
  const topic_registry::change ch = registry_.unsubscribe(c, topic);
  if (!ch.changed) return -ENOENT;
  if (ch.edge) hub_->internal().left(this, topic);
  return 0;
}

void topic_service::leave_all(client_num_t c) {
  registry_.remove_all(c, [this](std::string_view topic) { hub_->internal().left(this, topic); });
}

topic_counters topic_service::counters() const noexcept {
  topic_counters out;
  out.topics = registry_.topic_count();
  out.subscriptions = registry_.subscription_count();
  out.published = published_;
  out.delivered = delivered_;
  out.dropped_slow = dropped_slow_;
  return out;
}

void topic_service::post_message(std::shared_ptr<const topic_message> m) {
  // post() keeps the order of one source thread; -ESHUTDOWN (stopping) drops the message, as
  // the loop's connections are closing anyway.
  loop_.post([this, m = std::move(m)] { deliver_here(m->topic(), m->data(), m->type()); });
}

void topic_service::deliver_here(std::string_view topic, std::span<const std::byte> data,
                                 ws_message_type type) {
  // Walked in place: delivering calls no application callback (a slow or failed receiver is
  // only marked closing; it leaves the topic later, from the close path).
  const std::span<const client_num_t> subscribers = registry_.subscribers(topic);
  if (subscribers.empty()) return;
  broadcast_result r;
  loop_.ws_broadcast_begin(data, type);
  for (const client_num_t c : subscribers) loop_.ws_broadcast_to(c, r);
  loop_.ws_broadcast_end();
  delivered_ += r.queued;
  dropped_slow_ += r.slow;
}

}  // namespace ns::server
