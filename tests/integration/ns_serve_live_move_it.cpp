// SPDX-License-Identifier: MIT
// Live connections across a `kill -USR2` upgrade (issue 20 §2), with real TLS clients on
// 127.0.0.1: what is idle on TLS 1.3 — a keep-alive HTTPS connection, WebSockets between
// messages without deflate history — carries on in the new process on the same TCP connection
// without a close, a reset or a lost byte (chat rooms joined again there); what cannot move
// (TLS 1.2, deflate with context takeover) drains in the old one as before.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "support/process.hpp"
#include "support/site_fixture.hpp"
#include "support/successor.hpp"
#include "support/tls_client.hpp"
#include "tls/self_signed.hpp"
#include "ws_support.hpp"

namespace ns::test {
namespace {

[[maybe_unused]] const bool subreaper = become_subreaper();

pid_t upgrade(const served& s) {
  if (::kill(s.process->pid(), SIGUSR2) != 0) return -1;
  return successor_of(
      wait_for_stderr(*s.process, "accepts on the listeners now", std::chrono::seconds(20)));
}

bool get(tls_client& c, const std::string& path, http_response& r) {
  if (!c.write("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n")) return false;
  r = c.read_response();
  return r.complete;
}

std::string echo(ws_client& c, const std::string& text) {
  if (!c.send_text(text)) return "(send failed)";
  const std::optional<ws_event> e = c.next_message();
  if (!e) return "(nothing)";
  if (e->type == ws::event_type::close) return "(close " + std::to_string(e->code) + ")";
  return e->data;
}

class NsServeLiveMove : public ns_serve_site {
 protected:
  void SetUp() override { make_site("<!doctype html><title>moves</title>\n"); }
  served start(const std::string& drain_seconds) {
    return start_ns_serve({"--threads", "2", "--root", root_, "--cert", cert_, "--key", key_,
                           "--status-path", "/status", "--drain-timeout", drain_seconds});
  }
};

TEST_F(NsServeLiveMove, IdleTls13ConnectionsCarryOnInTheNewProcess) {
  served s = start("3");
  ASSERT_NE(s.port, 0);
  ws_client::options eo;
  eo.path = "/ws/echo";
  ws_client echo_client;
  ASSERT_TRUE(echo_client.connect(s.port, eo)) << echo_client.error();
  ASSERT_EQ(echo_client.status(), 101);
  ws_client::options co;
  co.path = "/ws/chat?room=moving";
  ws_client alice, bob;
  ASSERT_TRUE(alice.connect(s.port, co) && bob.connect(s.port, co));
  ASSERT_EQ(alice.status(), 101);
  ASSERT_EQ(bob.status(), 101);
  tls_client keep;
  ASSERT_TRUE(keep.connect(s.port)) << keep.error();
  ASSERT_EQ(keep.version(), "TLSv1.3");
  http_response r;
  ASSERT_TRUE(get(keep, "/index.html", r));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(echo(echo_client, "before"), "before");
  ASSERT_TRUE(alice.send_text("hello before"));
  for (ws_client* c : {&alice, &bob}) {
    const auto m = c->next_message();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->data, "hello before");
  }
  const int echo_fd = echo_client.fd(), keep_fd = keep.fd();

  successor_guard next{upgrade(s)};
  ASSERT_GT(next.pid, 0) << s.process->stderr_text();
  // Nothing left to drain once everything moved: the old process exits well before the 3 s
  // WebSocket grace would have closed them.
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(s.process->wait(std::chrono::seconds(20)), 0) << s.process->stderr_text();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(2500));

  // The same TCP connections, now served by the new process.
  EXPECT_EQ(echo_client.fd(), echo_fd);
  EXPECT_EQ(echo(echo_client, "after"), "after");
  const std::string big = make_payload(100000, true);
  EXPECT_EQ(echo(echo_client, big), big);
  ASSERT_TRUE(bob.send_text("hello after"));
  for (ws_client* c : {&alice, &bob}) {
    const auto m = c->next_message();
    ASSERT_TRUE(m) << "the room was joined again in the new process";
    EXPECT_EQ(m->data, "hello after");
  }
  EXPECT_EQ(keep.fd(), keep_fd);
  ASSERT_TRUE(get(keep, "/index.html", r)) << "the keep-alive connection still answers";
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<!doctype html><title>moves</title>\n");
  ASSERT_TRUE(get(keep, "/status", r));
  EXPECT_NE(r.body.find("\"moved_connections\": {\"out\": 0, \"in\": 4, \"refused\": 0}"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(next.stop(), 0);
}

TEST_F(NsServeLiveMove, WhatCannotMoveDrainsInTheOldProcess) {
  served s = start("1");
  ASSERT_NE(s.port, 0);
  tls_client::options v12;
  v12.max_version = TLS1_2_VERSION;
  tls_client old_tls;
  ASSERT_TRUE(old_tls.connect(s.port, v12)) << old_tls.error();
  http_response r;
  ASSERT_TRUE(get(old_tls, "/index.html", r));
  // Deflate with context takeover: the server's inflater keeps the client's window.
  ws_client::options dopt;
  dopt.path = "/ws/echo";
  dopt.deflate = true;
  ws_client deflating;
  ASSERT_TRUE(deflating.connect(s.port, dopt));
  ASSERT_EQ(deflating.status(), 101);
  ASSERT_TRUE(deflating.deflate_agreed());
  EXPECT_EQ(echo(deflating, "squeeze squeeze squeeze"), "squeeze squeeze squeeze");

  successor_guard next{upgrade(s)};
  ASSERT_GT(next.pid, 0) << s.process->stderr_text();
  EXPECT_TRUE(old_tls.wait_closed()) << "an idle TLS 1.2 keep-alive connection closes";
  const auto m = deflating.next_message();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, ws::event_type::close);
  EXPECT_EQ(m->code, 1001) << "going away, after the drain's grace";
  EXPECT_EQ(s.process->wait(std::chrono::seconds(20)), 0) << s.process->stderr_text();
  EXPECT_EQ(https_get(s.port, "/index.html").status, 200);
  EXPECT_EQ(next.stop(), 0);
}

}  // namespace
}  // namespace ns::test
