// SPDX-License-Identifier: MIT
#include "server/topic_registry.hpp"

namespace ns::server {
namespace {

constexpr std::size_t npos = ~std::size_t{0};

}  // namespace

std::size_t topic_registry::find_membership(const std::vector<membership>& list,
                                            const topic_entry& topic, client_num_t c) const {
  if (list.size() <= topic.handles.size()) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (list[i].topic == &topic) return i;
    }
    return npos;
  }
  for (std::size_t p = 0; p < topic.handles.size(); ++p) {
    if (topic.handles[p] == c) return topic.slots[p];
  }
  return npos;
}

topic_registry::change topic_registry::subscribe(client_num_t c, std::string_view topic) {
  auto it = topics_.find(topic);
  auto h = by_handle_.find(c);
  if (it != topics_.end() && h != by_handle_.end() &&
      find_membership(h->second, it->second, c) != npos) {
    return {};
  }
  change result{true, false};
  if (it == topics_.end()) {
    it = topics_.emplace(std::string(topic), topic_entry{}).first;
    it->second.name = &it->first;
    result.edge = true;
  }
  if (h == by_handle_.end()) h = by_handle_.try_emplace(c).first;
  topic_entry& e = it->second;
  std::vector<membership>& list = h->second;
  const auto pos = static_cast<std::uint32_t>(e.handles.size());
  e.handles.push_back(c);
  e.slots.push_back(static_cast<std::uint32_t>(list.size()));
  list.push_back({&e, pos});
  ++subscriptions_;
  return result;
}

topic_registry::change topic_registry::unsubscribe(client_num_t c, std::string_view topic) {
  const auto it = topics_.find(topic);
  const auto h = by_handle_.find(c);
  if (it == topics_.end() || h == by_handle_.end()) return {};
  const std::size_t i = find_membership(h->second, it->second, c);
  if (i == npos) return {};
  remove_from_topic(it->second, h->second[i].pos);
  remove_from_handle(h->second, i);
  if (h->second.empty()) by_handle_.erase(h);
  --subscriptions_;
  if (!it->second.handles.empty()) return {true, false};
  topics_.erase(it);
  return {true, true};
}

void topic_registry::remove_all(client_num_t c,
                                const std::function<void(std::string_view)>& emptied) {
  const auto h = by_handle_.find(c);
  if (h == by_handle_.end()) return;
  const std::vector<membership> list = std::move(h->second);
  by_handle_.erase(h);
  for (const membership& m : list) {
    // The subscriber moved into m.pos is another handle (a handle is in a topic once), whose
    // list is still in by_handle_.
    remove_from_topic(*m.topic, m.pos);
    --subscriptions_;
    if (!m.topic->handles.empty()) continue;
    emptied(*m.topic->name);
    topics_.erase(topics_.find(*m.topic->name));
  }
}

void topic_registry::remove_from_topic(topic_entry& topic, std::uint32_t pos) {
  const std::size_t last = topic.handles.size() - 1;
  if (pos != last) {
    topic.handles[pos] = topic.handles[last];
    topic.slots[pos] = topic.slots[last];
    by_handle_.find(topic.handles[pos])->second[topic.slots[pos]].pos = pos;
  }
  topic.handles.pop_back();
  topic.slots.pop_back();
}

void topic_registry::remove_from_handle(std::vector<membership>& list, std::size_t i) {
  const std::size_t last = list.size() - 1;
  if (i != last) {
    list[i] = list[last];
    list[i].topic->slots[list[i].pos] = static_cast<std::uint32_t>(i);
  }
  list.pop_back();
}

std::span<const client_num_t> topic_registry::subscribers(std::string_view topic) const {
  const auto it = topics_.find(topic);
  if (it == topics_.end()) return {};
  return it->second.handles;
}

std::vector<std::string_view> topic_registry::topics_of(client_num_t c) const {
  std::vector<std::string_view> out;
  const auto h = by_handle_.find(c);
  if (h == by_handle_.end()) return out;
  for (const membership& m : h->second) out.emplace_back(*m.topic->name);
  return out;
}

}  // namespace ns::server
