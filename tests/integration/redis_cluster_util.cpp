// SPDX-License-Identifier: MIT
#include "integration/redis_cluster_util.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <sstream>

namespace ns::test {

instance::instance(const std::string& redis_url, const temp_dir& root)
    : s_(start_ns_serve({"--root", root.path(), "--threads", "2", "--redis", redis_url,
                         "--status-path", "/_status", "--log-level", "info"})) {
  if (!up()) ADD_FAILURE() << "ns_serve did not start: " << s_.process->stderr_text();
}

std::string instance::redis_json() const {
  const std::string all = status_json(s_.port);
  const auto at = all.find("\"redis\": {");
  const auto end = all.find("}}", at);
  return at == std::string::npos || end == std::string::npos ? all : all.substr(at, end + 2 - at);
}

bool instance::connected() const {
  return redis_json().find("\"connected\": true") != std::string::npos;
}

int instance::redis_log_lines() const {
  std::istringstream in(s_.process->stderr_text());
  int n = 0;
  for (std::string line; std::getline(in, line);) n += line.find("redis") != std::string::npos;
  return n;
}

two_instances::two_instances(const std::string& redis_config)
    : redis(redis_config), a(redis.url(), root), b(redis.url(), root) {
  if (!redis.ok()) ADD_FAILURE() << "redis-server did not start: " << redis.log();
}

void two_instances::expect_clean_exit() {
  for (auto* i : {&a, &b}) {
    EXPECT_EQ(i->process().stop(SIGTERM, std::chrono::seconds(10)), 0)
        << i->process().stderr_text();
  }
}

std::unique_ptr<ws_client> chat(std::uint16_t port, const std::string& room) {
  auto c = std::make_unique<ws_client>();
  ws_client::options o;
  o.path = "/ws/chat?room=" + room;
  o.deflate = true;
  if (!c->connect(port, o) || c->status() != 101) {
    ADD_FAILURE() << o.path << ": " << c->error() << " " << c->head();
    return nullptr;
  }
  return c;
}

std::string next_text(ws_client& c) {
  const auto e = c.next_message();
  return e && e->type == ws::event_type::message ? e->data : "<none>";
}

std::string next_text_starting(ws_client& c, const std::string& prefix) {
  for (;;) {
    std::string t = next_text(c);
    if (t == "<none>" || t.starts_with(prefix)) return t;
  }
}

std::set<std::string> channels(const redis_server& r, const std::string& pattern) {
  std::set<std::string> out;
  std::istringstream in(r.command({"PUBSUB", "CHANNELS", pattern}));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.insert(line);
  }
  return out;
}

}  // namespace ns::test
