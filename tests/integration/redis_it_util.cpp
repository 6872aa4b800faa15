// SPDX-License-Identifier: MIT
#include "integration/redis_it_util.hpp"

#include <hiredis/hiredis.h>

#include <cstdlib>
#include <thread>

#include "cluster/envelope.hpp"
#include "support/tls_client.hpp"

namespace ns::test {


std::string envelope(const std::string& origin, bool text, const std::string& payload) {
  std::string out;
  cluster::encode_envelope(out, origin,
                           text ? cluster::payload_type::text : cluster::payload_type::binary,
                           std::as_bytes(std::span(payload.data(), payload.size())));
  return out;
}

int numsub(const redis_server& r, const std::string& channel) {
  const std::string reply = r.command({"PUBSUB", "NUMSUB", channel});
  const auto nl = reply.rfind('\n');
  return nl == std::string::npos ? -1 : std::atoi(reply.c_str() + nl + 1);
}

raw_subscriber::raw_subscriber(const redis_server& r, const std::vector<std::string>& channels) {
  const timeval timeout{5, 0};
  ctx_ = redisConnectWithTimeout("127.0.0.1", r.port(), timeout);
  if (ctx_ == nullptr || ctx_->err != 0) {
    if (ctx_ != nullptr) redisFree(ctx_);
    ctx_ = nullptr;
    return;
  }
  redisSetTimeout(ctx_, timeout);
  std::vector<const char*> argv{"SUBSCRIBE"};
  std::vector<std::size_t> lens{9};
  for (const auto& c : channels) {
    argv.push_back(c.data());
    lens.push_back(c.size());
  }
  redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data());
  for (std::size_t i = 0; i < channels.size(); ++i) {  // one confirmation per channel
    void* reply = nullptr;
    if (redisGetReply(ctx_, &reply) != REDIS_OK) break;
    freeReplyObject(reply);
  }
}

raw_subscriber::~raw_subscriber() {
  if (ctx_ != nullptr) redisFree(ctx_);
}

std::optional<std::pair<std::string, std::string>> raw_subscriber::next() {
  void* reply = nullptr;
  if (ctx_ == nullptr || redisGetReply(ctx_, &reply) != REDIS_OK || reply == nullptr) {
    return std::nullopt;
  }
  const auto* r = static_cast<redisReply*>(reply);
  std::optional<std::pair<std::string, std::string>> out;
  if (r->type == REDIS_REPLY_ARRAY && r->elements == 3) {
    out.emplace(std::string(r->element[1]->str, r->element[1]->len),
                std::string(r->element[2]->str, r->element[2]->len));
  }
  freeReplyObject(reply);
  return out;
}

long long json_number(const std::string& json, const std::string& key) {
  const std::string needle = "\"" + key + "\": ";
  const auto at = json.find(needle);
  if (at == std::string::npos) return -1;
  return std::atoll(json.c_str() + at + needle.size());
}

std::string status_json(std::uint16_t port) {
  return https_get(port, "/_status").body;
}

}  // namespace ns::test
