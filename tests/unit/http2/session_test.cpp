// SPDX-License-Identifier: MIT
// http2::session against nghttp2's own client session (h2_client.hpp): requests become events,
// responses become frames, limits and flow control hold.
#include "http2/session.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>

#include "h2_client.hpp"

namespace ns::http2 {
namespace {

using test::h2_client;

struct recorded_request {
  std::string method, scheme, authority, path, protocol;
  std::vector<std::pair<std::string, std::string>> fields;
  bool end_stream = false;
  std::string body;
  bool body_done = false;
};

// Records events; answers read_body from per-stream response bodies.
struct recorder final : events {
  std::map<std::int32_t, recorded_request> requests;
  std::map<std::int32_t, std::string> responses;  // body still to give
  std::map<std::int32_t, error_code> closed;
  std::size_t body_bytes_read = 0;
  bool defer = false;

  void on_request(std::int32_t stream, const request_head& h) override {
    recorded_request& r = requests[stream];
    r.method = h.method;
    r.scheme = h.scheme;
    r.authority = h.authority;
    r.path = h.path;
    r.protocol = h.protocol;
    for (const field& f : h.fields) r.fields.emplace_back(f.name, f.value);
    r.end_stream = h.end_stream;
  }
  void on_body(std::int32_t stream, std::span<const std::byte> piece) override {
    requests[stream].body.append(reinterpret_cast<const char*>(piece.data()), piece.size());
  }
  void on_body_end(std::int32_t stream) override { requests[stream].body_done = true; }
  body_chunk read_body(std::int32_t stream, std::span<std::byte> out) override {
    if (defer) return {0, false, true};
    std::string& b = responses[stream];
    const std::size_t n = std::min(out.size(), b.size());
    std::memcpy(out.data(), b.data(), n);
    b.erase(0, n);
    body_bytes_read += n;
    return {n, b.empty(), false};
  }
  void on_stream_closed(std::int32_t stream, error_code code) override { closed[stream] = code; }
};

// A session and a client; the test moves bytes between them with test::exchange.
class Http2Session : public ::testing::Test {
 protected:
  recorder ev;
  session s{{}, ev};
  h2_client c;
};

TEST_F(Http2Session, AdvertisesSettings) {
  ASSERT_TRUE(test::exchange(c, s));
  EXPECT_EQ(c.remote_setting(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS), 100u);
  EXPECT_EQ(c.remote_setting(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE), 64u * 1024);
  EXPECT_EQ(c.remote_setting(NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL), 1u);
}

TEST_F(Http2Session, RequestBecomesEventAndResponseFrames) {
  const auto id = c.request("GET", "/index.html?x=1", {{"accept", "text/html"}});
  ASSERT_TRUE(test::exchange(c, s));
  ASSERT_EQ(ev.requests.count(id), 1u);
  const recorded_request& r = ev.requests[id];
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.scheme, "https");
  EXPECT_EQ(r.authority, "localhost");
  EXPECT_EQ(r.path, "/index.html?x=1");
  EXPECT_TRUE(r.end_stream);
  ASSERT_EQ(r.fields.size(), 1u);
  EXPECT_EQ(r.fields[0].first, "accept");

  ev.responses[id] = "hello";
  const field fields[] = {{"Content-Type", "text/plain"},
                          {"Connection", "close"},
                          {"Transfer-Encoding", "chunked"},
                          {"X-Mixed-Case", "v"}};
  ASSERT_EQ(s.respond(id, 200, fields, true), 0);
  ASSERT_TRUE(test::exchange(c, s));
  const auto& st = c.streams[id];
  EXPECT_EQ(st.status, 200);
  EXPECT_EQ(st.body, "hello");
  EXPECT_TRUE(st.closed);
  EXPECT_EQ(st.close_code, 0u);
  // Lowercased; connection-specific fields dropped (RFC 9113 §8.2.2) — the client would have
  // reset the stream otherwise.
  std::vector<std::string> names;
  for (const auto& [n, v] : st.headers) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"content-type", "x-mixed-case"}));
  EXPECT_EQ(ev.closed.at(id), error_code::no_error);
}

TEST_F(Http2Session, RequestBodyArrivesInPieces) {
  const std::string body(100000, 'b');
  const auto id = c.request("POST", "/up", {{"content-length", "100000"}}, body);
  ASSERT_TRUE(test::exchange(c, s));
  const recorded_request& r = ev.requests[id];
  EXPECT_FALSE(r.end_stream);
  EXPECT_EQ(r.body, body);  // more than one window: the session acknowledged as it went
  EXPECT_TRUE(r.body_done);
}

TEST(Http2SessionSetup, ResponseRespectsTheStreamWindow) {
  recorder ev;
  session s({}, ev);
  h2_client c(/*auto_window=*/false, 65535);
  const auto id = c.request("GET", "/big");
  ASSERT_TRUE(test::exchange(c, s));
  ev.responses[id] = std::string(200000, 'x');
  ASSERT_EQ(s.respond(id, 200, {}, true), 0);
  ASSERT_TRUE(test::exchange(c, s));
  // The source is asked for no more than the window allows: nothing buffers beyond it.
  EXPECT_EQ(ev.body_bytes_read, 65535u);
  EXPECT_EQ(c.streams[id].body.size(), 65535u);
  c.consume(id, 65535);  // WINDOW_UPDATE on the stream and the connection
  ASSERT_TRUE(test::exchange(c, s));
  EXPECT_EQ(ev.body_bytes_read, 2u * 65535);  // exactly as far as the windows opened
  EXPECT_EQ(c.streams[id].body.size(), 2u * 65535);
  EXPECT_FALSE(c.streams[id].closed);
}

TEST_F(Http2Session, DeferredBodyResumes) {
  const auto id = c.request("GET", "/later");
  ASSERT_TRUE(test::exchange(c, s));
  ev.defer = true;
  ev.responses[id] = "late";
  ASSERT_EQ(s.respond(id, 200, {}, true), 0);
  ASSERT_TRUE(test::exchange(c, s));
  EXPECT_EQ(c.streams[id].status, 200);
  EXPECT_FALSE(c.streams[id].closed);
  ev.defer = false;
  s.resume(id);
  ASSERT_TRUE(test::exchange(c, s));
  EXPECT_EQ(c.streams[id].body, "late");
  EXPECT_TRUE(c.streams[id].closed);
}

TEST(Http2SessionSetup, HeaderListOverLimitResetsTheStream) {
  recorder ev;
  settings st;
  st.max_header_list_size = 1024;
  session s(st, ev);
  h2_client c;
  ASSERT_TRUE(test::exchange(c, s));  // the client learns nothing it enforces on itself
  const auto id = c.request("GET", "/", {{"x-big", std::string(2000, 'a')}});
  const auto ok = c.request("GET", "/ok");
  ASSERT_TRUE(test::exchange(c, s));
  EXPECT_EQ(ev.requests.count(id), 0u);
  EXPECT_TRUE(c.streams[id].closed);
  EXPECT_EQ(c.streams[id].close_code, NGHTTP2_ENHANCE_YOUR_CALM);
  EXPECT_EQ(ev.requests.count(ok), 1u);  // the HPACK state stayed in step
}

TEST_F(Http2Session, ExtendedConnectCarriesProtocol) {
  ASSERT_TRUE(test::exchange(c, s));  // ENABLE_CONNECT_PROTOCOL must be known first
  const auto id = c.request("CONNECT", "/chat", {{":protocol", "websocket"}});
  ASSERT_TRUE(test::exchange(c, s));
  ASSERT_EQ(ev.requests.count(id), 1u);
  EXPECT_EQ(ev.requests[id].method, "CONNECT");
  EXPECT_EQ(ev.requests[id].protocol, "websocket");
}

TEST_F(Http2Session, PeerResetIsReported) {
  const auto id = c.request("GET", "/");
  ASSERT_TRUE(test::exchange(c, s));
  c.reset(id, NGHTTP2_CANCEL);
  ASSERT_TRUE(test::exchange(c, s));
  EXPECT_EQ(ev.closed.at(id), error_code::cancel);
}

TEST(Http2SessionSetup, BadPrefaceFails) {
  recorder ev;
  session s({}, ev);
  const std::string junk = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  const feed_result r = s.feed(std::as_bytes(std::span(junk.data(), junk.size())));
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.error.empty());
}

TEST_F(Http2Session, ByteAtATime) {
  const auto id = c.request("POST", "/p", {{"x-a", "1"}}, "body!");
  const std::vector<std::byte> up = c.output();
  for (std::size_t i = 0; i < up.size(); ++i) ASSERT_TRUE(s.feed({&up[i], 1}).ok) << i;
  EXPECT_EQ(ev.requests[id].path, "/p");
  EXPECT_EQ(ev.requests[id].body, "body!");
  EXPECT_TRUE(ev.requests[id].body_done);
}

TEST_F(Http2Session, GoAwayEndsTheSession) {
  c.request("GET", "/");
  ASSERT_TRUE(test::exchange(c, s));
  s.go_away(error_code::enhance_your_calm);
  ASSERT_TRUE(test::exchange(c, s));
  EXPECT_TRUE(c.got_goaway());
  EXPECT_EQ(c.goaway_code(), NGHTTP2_ENHANCE_YOUR_CALM);
  EXPECT_TRUE(s.finished());
}

}  // namespace
}  // namespace ns::http2

namespace ns::http2 {
namespace {

TEST_F(Http2Session, FinishStreamsAnswersWhatIsInFlight) {
  const auto id = c.request("GET", "/in-flight");
  ASSERT_TRUE(test::exchange(c, s));
  s.finish_streams();
  ASSERT_TRUE(test::exchange(c, s));
  EXPECT_TRUE(c.got_goaway());
  EXPECT_EQ(c.goaway_code(), NGHTTP2_NO_ERROR);
  EXPECT_FALSE(s.finished());  // the stream in flight is still owed its answer
  ev.responses[id] = "late but whole";
  ASSERT_EQ(s.respond(id, 200, {}, true), 0);
  ASSERT_TRUE(test::exchange(c, s));
  EXPECT_EQ(c.streams[id].body, "late but whole");
  EXPECT_TRUE(s.finished());
}

}  // namespace
}  // namespace ns::http2
