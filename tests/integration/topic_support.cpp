// SPDX-License-Identifier: MIT
#include "integration/topic_support.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <thread>

namespace ns::test {

void topic_app::server_started_callback(network_server& s) {
  ws_test_app::server_started_callback(s);
  started_.store(&s);
}

network_server& topic_app::loop() {
  while (started_.load() == nullptr) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return *started_.load();
}

void topic_app::http_read_callback(const http_request& req, client_num_t c) {
  {
    std::lock_guard l(m);
    http_subscribe_rc = server->subscribe(c, "x");
    http_unsubscribe_rc = server->unsubscribe(c, "x");
  }
  ws_test_app::http_read_callback(req, c);
}

ws_accept_decision topic_app::websocket_upgrade_callback(const http_request& req, client_num_t c) {
  if (req.path() != "/t") return ws_test_app::websocket_upgrade_callback(req, c);
  is_chat[c] = false;
  topic_clients_.insert(c);
  ws_accept_decision d;
  d.accept = true;
  return d;
}

void topic_app::websocket_read_callback(std::span<const std::byte> data, ws_message_type type,
                                        client_num_t c, bool failed) {
  if (failed || topic_clients_.count(c) == 0) {
    ws_test_app::websocket_read_callback(data, type, c, failed);
    return;
  }
  const std::string_view s(reinterpret_cast<const char*>(data.data()), data.size());
  const std::size_t sp = s.find(' ');
  const std::string_view verb = s.substr(0, sp);
  const std::string_view rest = sp == std::string_view::npos ? "" : s.substr(sp + 1);
  if (verb == "sub" || verb == "unsub") {
    const int rc = verb == "sub" ? server->subscribe(c, rest) : server->unsubscribe(c, rest);
    EXPECT_EQ(server->websocket_write(c, "rc " + std::to_string(rc)), 0);
  } else if (verb == "pub") {
    const std::size_t sp2 = rest.find(' ');
    const int rc = server->publish(rest.substr(0, sp2), rest.substr(sp2 + 1));
    if (rc != 0) {
      std::lock_guard l(m);
      publish_rcs.push_back(rc);
    }
  } else if (verb == "closeme") {
    EXPECT_EQ(server->websocket_close(c, 1000, "bye"), 0);
    std::lock_guard l(m);
    closing_rc = server->subscribe(c, "late");
  } else {
    ADD_FAILURE() << "unknown command " << s;
  }
}

void topic_app::websocket_close_callback(client_num_t c, std::uint16_t code) {
  topic_clients_.erase(c);
  {
    std::lock_guard l(m);
    stale_rc = server->subscribe(c, "x");
  }
  ws_test_app::websocket_close_callback(c, code);
}

topic_loops::topic_loops(int n, const std::function<void(server_config&)>& tune) {
  for (int i = 0; i < n; ++i) {
    apps.push_back(std::make_unique<topic_app>());
    servers.push_back(std::make_unique<ws_server>(tune, apps.back().get(), hub));
  }
}

std::unique_ptr<ws_client> topic_client(std::uint16_t port, const std::vector<std::string>& topics,
                                        ws_client::options o) {
  auto c = std::make_unique<ws_client>();
  o.path = "/t";
  if (!c->connect(port, o) || c->status() != 101) {
    ADD_FAILURE() << "connect: " << c->error() << " " << c->head();
    return nullptr;
  }
  for (const std::string& t : topics) {
    const int rc = command_rc(*c, "sub " + t);
    if (rc != 0) {
      ADD_FAILURE() << "sub " << t << ": " << rc;
      return nullptr;
    }
  }
  return c;
}

int command_rc(ws_client& c, const std::string& command) {
  if (!c.send_text(command)) return 1;
  const auto e = c.next_message();
  if (!e || e->type != ws::event_type::message || e->data.rfind("rc ", 0) != 0) return 1;
  return std::stoi(e->data.substr(3));
}

void recording_engine::on_first_subscriber(std::string_view topic) {
  std::lock_guard l(m);
  events.push_back("+" + std::string(topic));
}

void recording_engine::on_last_unsubscribed(std::string_view topic) {
  std::lock_guard l(m);
  events.push_back("-" + std::string(topic));
}

void recording_engine::publish(std::string_view topic, std::span<const std::byte> data,
                               ws_message_type) {
  std::lock_guard l(m);
  events.push_back("pub " + std::string(topic) + " " +
                   std::string(reinterpret_cast<const char*>(data.data()), data.size()));
}

}  // namespace ns::test
