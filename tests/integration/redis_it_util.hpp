// SPDX-License-Identifier: MIT
#pragma once
// Helpers of the Redis engine tests: waiting for a condition, envelopes as another instance
// would publish them, a raw (synchronous hiredis) subscriber, and ns_serve's "redis" counters.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/redis_server.hpp"

struct redisContext;

#include "support/eventually.hpp"

namespace ns::test {


/// The bytes another instance with @p origin publishes for @p payload.
std::string envelope(const std::string& origin, bool text, const std::string& payload);

/// PUBSUB NUMSUB @p channel: how many connections subscribe to it.
int numsub(const redis_server& r, const std::string& channel);

/// A plain Redis subscriber on its own connection (what the engine publishes looks like).
class raw_subscriber {
 public:
  raw_subscriber(const redis_server& r, const std::vector<std::string>& channels);
  ~raw_subscriber();
  raw_subscriber(const raw_subscriber&) = delete;
  raw_subscriber& operator=(const raw_subscriber&) = delete;
  [[nodiscard]] bool ok() const { return ctx_ != nullptr; }
  /// The next message as (channel, payload); nullopt after 5 s without one.
  std::optional<std::pair<std::string, std::string>> next();

 private:
  redisContext* ctx_ = nullptr;
};

/// The number after "\"KEY\": " in @p json (the first occurrence), or -1.
long long json_number(const std::string& json, const std::string& key);

/// ns_serve's status document from @p port (GET /_status).
std::string status_json(std::uint16_t port);

}  // namespace ns::test
