// SPDX-License-Identifier: MIT
#pragma once
// The topics of one loop, as a plain data structure (no loop, no hub): topic → its subscribers,
// and handle → its topics, so that a closing connection leaves all of them in O(its topics).
//
// A topic's subscribers are one contiguous vector of handles: what a publish walks, for every
// message, so it is kept as small and dense as a websocket_broadcast list. Both sides keep the
// other's index (a subscription knows its place in the topic's vector and in the handle's list)
// so that removal is O(1): swap with the last, fix the moved one's back index.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <network_server/types.hpp>

namespace ns::server {

class topic_registry {
 public:
  /// What a subscribe or unsubscribe changed.
  struct change {
    bool changed = false;  ///< the subscription was added (or removed); false: it was (not) there
    bool edge = false;     ///< the topic got its first subscriber (or lost its last) on this loop
  };

  topic_registry() = default;
  topic_registry(const topic_registry&) = delete;
  topic_registry& operator=(const topic_registry&) = delete;

  change subscribe(client_num_t c, std::string_view topic);
  change unsubscribe(client_num_t c, std::string_view topic);

  /// Removes every subscription of @p c; calls @p emptied(topic) for each topic it was the last
  /// subscriber of (the view is valid during the call).
  void remove_all(client_num_t c, const std::function<void(std::string_view)>& emptied);

  /// The subscribers of @p topic (empty if none). Valid until the registry next changes.
  [[nodiscard]] std::span<const client_num_t> subscribers(std::string_view topic) const;

  /// The topics @p c is subscribed to, in no particular order.
  [[nodiscard]] std::vector<std::string_view> topics_of(client_num_t c) const;

  [[nodiscard]] std::size_t topic_count() const noexcept { return topics_.size(); }
  [[nodiscard]] std::size_t subscription_count() const noexcept { return subscriptions_; }

 private:
  struct topic_entry;
  // One subscription as its handle sees it: which topic, and where in the topic's vectors.
  struct membership {
    topic_entry* topic;
    std::uint32_t pos;
  };
  struct topic_entry {
    const std::string* name = nullptr;  // the map's key (node-based: its address is stable)
    std::vector<client_num_t> handles;  // what a publish walks
    std::vector<std::uint32_t> slots;   // handles[i]'s index in its membership list
  };
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };

  // Index of @p topic in @p list, or npos; scans the shorter side (a handle with few topics,
  // or a topic with few subscribers).
  [[nodiscard]] std::size_t find_membership(const std::vector<membership>& list,
                                            const topic_entry& topic, client_num_t c) const;
  // Takes subscription @p pos out of @p topic (not out of the handle's list).
  void remove_from_topic(topic_entry& topic, std::uint32_t pos);
  // Takes membership @p i out of @p c's list.
  void remove_from_handle(std::vector<membership>& list, std::size_t i);

  std::unordered_map<std::string, topic_entry, string_hash, std::equal_to<>> topics_;
  std::unordered_map<client_num_t, std::vector<membership>> by_handle_;
  std::size_t subscriptions_ = 0;
};

}  // namespace ns::server
