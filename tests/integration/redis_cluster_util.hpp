// SPDX-License-Identifier: MIT
#pragma once
// ns_serve instances joined by Redis, for the cluster tests: one instance (two loops, --redis,
// the status endpoint), its "redis" counters, /ws/chat clients.

#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "integration/redis_it_util.hpp"
#include "integration/ws_support.hpp"

namespace ns::test {

/// The "dropped" object of an instance that dropped nothing.
inline constexpr const char* no_drops =
    "\"dropped\": {\"malformed\": 0, \"oversized\": 0, \"too_large\": 0, \"queue_full\": 0, "
    "\"lost_in_flight\": 0, \"refused\": 0}";

/// ns_serve --threads 2 --redis URL --status-path /_status, serving @p root.
class instance {
 public:
  instance(const std::string& redis_url, const temp_dir& root);
  [[nodiscard]] bool up() const { return s_.port != 0; }
  [[nodiscard]] std::uint16_t port() const { return s_.port; }
  child_process& process() { return *s_.process; }
  /// The "redis" object of the status document.
  [[nodiscard]] std::string redis_json() const;
  [[nodiscard]] bool connected() const;
  /// Lines of its error log that mention redis.
  [[nodiscard]] int redis_log_lines() const;

 private:
  served s_;
};

/// What most cluster tests start with: a redis-server (with @p redis_config) and two
/// instances on it.
struct two_instances {
  explicit two_instances(const std::string& redis_config = "");
  /// Both instances stop cleanly on SIGTERM (exit 0: no sanitizer report, no leak).
  void expect_clean_exit();
  redis_server redis;
  temp_dir root;
  instance a, b;
  [[nodiscard]] bool ok() const { return redis.ok() && a.up() && b.up(); }
};

/// A /ws/chat?room=@p room client (permessage-deflate offered, as a browser does).
std::unique_ptr<ws_client> chat(std::uint16_t port, const std::string& room);
/// The next text message, or "<none>".
std::string next_text(ws_client& c);
/// The next text message that starts with @p prefix (others are skipped), or "<none>".
std::string next_text_starting(ws_client& c, const std::string& prefix);
/// PUBSUB CHANNELS @p pattern as a set.
std::set<std::string> channels(const redis_server& r, const std::string& pattern = "*");

}  // namespace ns::test
