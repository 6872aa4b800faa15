// SPDX-License-Identifier: MIT
#include "support/redis_server.hpp"

#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <thread>

namespace ns::test {
namespace {

std::string redis_server_binary() {
  for (const char* p : {"/usr/bin/redis-server", "/usr/local/bin/redis-server"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return "/usr/bin/redis-server";  // child_process reports that it cannot run it
}

std::string reply_text(const redisReply* r) {
  switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      return std::string(r->str, r->len);
    case REDIS_REPLY_ERROR:
      return "ERR:" + std::string(r->str, r->len);
    case REDIS_REPLY_INTEGER:
      return std::to_string(r->integer);
    case REDIS_REPLY_ARRAY: {
      std::string out;
      for (std::size_t i = 0; i < r->elements; ++i) {
        if (i > 0) out += '\n';
        out += reply_text(r->element[i]);
      }
      return out;
    }
    default:
      return "(nil)";
  }
}

}  // namespace

redis_server::redis_server(std::string extra_config, std::uint16_t port)
    : port_(port != 0 ? port : free_port()) {
  config_ = dir_.write("redis.conf", "port " + std::to_string(port_) +
                                         "\nbind 127.0.0.1\nsave \"\"\nappendonly no\n"
                                         "daemonize no\ndir " +
                                         dir_.path() + "\nlogfile " + dir_.path() + "/redis.log\n" +
                                         extra_config + "\n");
  ok_ = start();
}

redis_server::~redis_server() {
  kill();
}

std::string redis_server::url() const {
  return "redis://127.0.0.1:" + std::to_string(port_);
}

std::string redis_server::log() const {
  std::string text = process_ ? process_->stderr_text() : "";
  std::ifstream in(dir_.path() + "/redis.log");
  return text + std::string(std::istreambuf_iterator<char>(in), {});
}

void redis_server::kill() {
  if (process_) process_->stop(SIGKILL, std::chrono::seconds(5));
  process_.reset();
}

void redis_server::signal(int sig) {
  if (process_) ::kill(process_->pid(), sig);
}

bool redis_server::start() {
  kill();
  process_ =
      std::make_unique<child_process>(std::vector<std::string>{redis_server_binary(), config_});
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < end) {
    // Any answer (PONG, or NOAUTH with requirepass) means it is accepting commands.
    if (!command({"PING"}).empty() && command({"PING"}) != "(nil)") return true;
    if (process_->wait(std::chrono::milliseconds(0)) != -1) return false;  // it exited
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

std::string redis_server::command(const std::vector<std::string>& args,
                                  const std::string& password) const {
  const timeval timeout{2, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, timeout);
  if (c == nullptr || c->err != 0) {
    if (c != nullptr) redisFree(c);
    return "";
  }
  redisSetTimeout(c, timeout);
  if (!password.empty()) {
    if (auto* r = static_cast<redisReply*>(
            redisCommand(c, "AUTH %b", password.data(), password.size()))) {
      freeReplyObject(r);
    }
  }
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
  std::string out = r != nullptr ? reply_text(r) : "";
  if (r != nullptr) freeReplyObject(r);
  redisFree(c);
  return out;
}

}  // namespace ns::test
