// SPDX-License-Identifier: MIT
#include "integration/ws_support.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <future>

#include "tls/self_signed.hpp"
#include "ws/frame_decoder.hpp"
#include "ws/frame_encoder.hpp"

namespace ns::test {
namespace {

std::span<const std::byte> as_bytes(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

std::string lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

}  // namespace

// ---- application ---------------------------------------------------------------------------

void ws_test_app::http_read_callback(const http_request&, client_num_t c) {
  EXPECT_EQ(server->websocket_write(c, std::string_view("x")), -EINVAL);  // not upgraded
  EXPECT_EQ(server->websocket_close(c), -EINVAL);
  server->http_write(c, std::string_view("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nplain"));
}

void ws_test_app::http_close_callback(client_num_t) {
  std::lock_guard l(rec.m);
  ++rec.http_close_calls;
  rec.cv.notify_all();
}

ws_accept_decision ws_test_app::websocket_upgrade_callback(const http_request& req,
                                                           client_num_t c) {
  ws_accept_decision d;
  const std::string_view p = req.path();
  if (p == "/echo" || p == "/chat") {
    d.accept = true;
    is_chat[c] = p == "/chat";
  } else if (p == "/sub") {
    d.accept = true;
    is_chat[c] = false;
    if (req.header("Sec-WebSocket-Protocol").find("chat.v1") != std::string_view::npos) {
      d.subprotocol = "chat.v1";
    }
  }
  return d;
}

void ws_test_app::websocket_open_callback(client_num_t c) {
  // HTTP responses no longer apply to an upgraded connection.
  EXPECT_EQ(server->http_write(c, std::string_view("HTTP/1.1 200 OK\r\n\r\n")), -EINVAL);
  if (is_chat[c]) chat.push_back(c);
  std::lock_guard l(rec.m);
  rec.opened.push_back(c);
  rec.cv.notify_all();
}

void ws_test_app::websocket_read_callback(std::span<const std::byte> data, ws_message_type type,
                                          client_num_t c, bool failed) {
  if (failed) {
    EXPECT_TRUE(data.empty());
    std::lock_guard l(rec.m);
    ++rec.failed_reads;
    return;
  }
  {
    std::lock_guard l(rec.m);
    ++rec.messages;
  }
  const std::string_view s(reinterpret_cast<const char*>(data.data()), data.size());
  if (is_chat[c]) {
    const broadcast_result r = server->websocket_broadcast(chat, data, type);
    std::lock_guard l(rec.m);
    rec.last_broadcast = r;
    rec.broadcast_slow_total += r.slow;
    return;
  }
  if (type == ws_message_type::text && s.rfind("close:", 0) == 0) {
    EXPECT_EQ(server->websocket_close(
                  c, static_cast<std::uint16_t>(std::stoi(std::string(s.substr(6)))), "bye"),
              0);
    // After our close frame no message may be sent (RFC 6455 §5.5.1).
    EXPECT_EQ(server->websocket_write(c, std::string_view("late")), -EPIPE);
    return;
  }
  if (type == ws_message_type::text && s == "writev") {
    iovec v[3] = {
        {const_cast<char*>("a"), 1}, {const_cast<char*>("bb"), 2}, {const_cast<char*>("ccc"), 3}};
    EXPECT_EQ(server->websocket_writev(c, v, ws_message_type::text), 0);
    return;
  }
  if (type == ws_message_type::text && s == "flood") {
    const std::string big(1024 * 1024, 'f');
    for (int i = 0; i < 256; ++i) {
      const int rc = server->websocket_write(c, as_bytes(big), ws_message_type::binary);
      if (rc == -ENOBUFS) {
        std::lock_guard l(rec.m);
        ++rec.enobufs;
        rec.queued_at_enobufs = server->queued_bytes(c);
        break;
      }
      EXPECT_EQ(rc, 0);
    }
    EXPECT_EQ(server->websocket_write(c, std::string_view("end")), 0) << "ENOBUFS is per message";
    return;
  }
  EXPECT_EQ(server->websocket_write(c, data, type), 0);
}

void ws_test_app::websocket_write_callback(client_num_t, bool failed) {
  std::lock_guard l(rec.m);
  ++rec.write_callbacks;
  if (failed) ++rec.failed_writes;
}

void ws_test_app::websocket_writev_callback(client_num_t, bool failed) {
  std::lock_guard l(rec.m);
  ++rec.writev_callbacks;
  if (failed) ++rec.failed_writes;
}

void ws_test_app::websocket_drain_callback(client_num_t) {
  std::lock_guard l(rec.m);
  ++rec.drains;
  rec.cv.notify_all();
}

void ws_test_app::websocket_close_callback(client_num_t c, std::uint16_t code) {
  for (std::size_t i = 0; i < chat.size(); ++i) {
    if (chat[i] == c) {
      chat.erase(chat.begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
  }
  is_chat.erase(c);
  // The handle is dead: every method refuses it.
  EXPECT_EQ(server->websocket_write(c, std::string_view("x")), -EBADF);
  EXPECT_EQ(server->queued_bytes(c), -EBADF);
  std::lock_guard l(rec.m);
  EXPECT_EQ(rec.ws_closed.count(c), 0u) << "websocket_close_callback twice";
  rec.ws_closed[c] = code;
  ++rec.ws_close_calls;
  rec.cv.notify_all();
}

bool ws_test_app::wait(const std::function<bool(ws_record&)>& pred,
                       std::chrono::milliseconds timeout) {
  std::unique_lock l(rec.m);
  return rec.cv.wait_for(l, timeout, [&] { return pred(rec); });
}

// ---- server --------------------------------------------------------------------------------

ws_server::ws_server(std::function<void(server_config&)> tune, application_methods* app,
                     std::shared_ptr<topic_hub> topics) {
  server_config cfg;
  cfg.port = 0;
  // SO_REUSEPORT with port 0 lets the kernel pick a port another process (a concurrent test run
  // as the same user) already listens on with SO_REUSEPORT, and then share connections with it.
  cfg.reuse_port = false;
  cfg.max_queued_output = 32 * 1024 * 1024;
  cfg.ws.max_frame_bytes = cfg.ws.max_message_bytes = 17 * 1024 * 1024;
  tls::write_pem_files(tls::make_self_signed(), dir_.path() + "/c.pem", dir_.path() + "/k.pem");
  cfg.tls.certificates.push_back({dir_.path() + "/c.pem", dir_.path() + "/k.pem"});
  if (tune) tune(cfg);
  // The server (and its io_uring) is created, run and destroyed on the loop thread only. A ring
  // made on the test thread would make the kernel send that thread io_uring task-work
  // notifications, which interrupt the test clients' blocking reads (EINTR under SO_RCVTIMEO).
  std::promise<void> ready;
  std::future<void> started = ready.get_future();
  application_methods& a = app != nullptr ? *app : app_;
  loop_ = std::thread([this, cfg, &a, &ready, topics] {
    try {
      server_ = std::make_unique<network_server>(cfg, a, shared_resources{nullptr, topics});
    } catch (...) {
      ready.set_exception(std::current_exception());
      return;
    }
    port_ = server_->port();
    ready.set_value();
    rc_ = server_->start();
    server_.reset();
  });
  try {
    started.get();
  } catch (...) {
    loop_.join();
    throw;
  }
}

ws_server::~ws_server() {
  if (loop_.joinable()) {
    server_->stop();  // thread-safe; the loop thread destroys the server after start() returns
    loop_.join();
  }
  EXPECT_EQ(rc_, 0);
}

// ---- client --------------------------------------------------------------------------------

bool ws_client::connect(std::uint16_t port, const options& opt) {
  tls_client::options to;
  to.timeout = opt.timeout;
  if (!tls_.connect(port, to)) {
    error_ = "TLS connect: " + tls_.error();
    return false;
  }
  auto_reply_ = opt.auto_reply;
  std::string req = "GET " + opt.path +
                    " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nSec-WebSocket-Key: " +
                    opt.key + "\r\nSec-WebSocket-Version: " + opt.version + "\r\n";
  if (opt.deflate) req += "Sec-WebSocket-Extensions: permessage-deflate\r\n";
  req += opt.extra_headers + "\r\n" + opt.trailing;
  if (!tls_.write(req)) {
    error_ = "write of the upgrade request failed";
    return false;
  }
  std::string data;
  std::size_t end = std::string::npos;
  char buf[16384];
  while ((end = data.find("\r\n\r\n")) == std::string::npos) {
    const int n = read_some(buf, sizeof(buf));
    if (n <= 0) {
      error_ = "reading the upgrade response: SSL error " +
               std::to_string(SSL_get_error(tls_.ssl(), n)) + ", errno " + std::to_string(errno) +
               ", got " + std::to_string(data.size()) + " bytes";
      return false;
    }
    data.append(buf, static_cast<std::size_t>(n));
  }
  head_ = data.substr(0, end + 4);
  const std::string rest = data.substr(end + 4);
  keep_received_ = opt.keep_received;
  if (keep_received_) received_ = rest;
  in_.assign(reinterpret_cast<const std::byte*>(rest.data()),
             reinterpret_cast<const std::byte*>(rest.data()) + rest.size());
  status_ = std::atoi(head_.c_str() + 9);
  ws::connection_options co;
  co.client_role = true;
  co.limits.max_frame_bytes = co.limits.max_message_bytes = 64 * 1024 * 1024;
  const std::string ext = header("sec-websocket-extensions");
  if (ext.find("permessage-deflate") != std::string::npos) {
    deflate_ = true;
    co.deflate.enabled = true;
    co.deflate.server_no_context_takeover =
        ext.find("server_no_context_takeover") != std::string::npos;
    co.deflate.client_no_context_takeover =
        ext.find("client_no_context_takeover") != std::string::npos;
  }
  proto_ = std::make_unique<ws::connection>(co);
  return true;
}

std::string ws_client::header(const std::string& lower_name) const {
  std::size_t pos = head_.find("\r\n");
  while (pos != std::string::npos && pos + 2 < head_.size()) {
    const std::size_t eol = head_.find("\r\n", pos + 2);
    const std::string line = head_.substr(pos + 2, eol - pos - 2);
    const std::size_t colon = line.find(':');
    if (colon != std::string::npos && lower(line.substr(0, colon)) == lower_name) {
      std::size_t v = colon + 1;
      while (v < line.size() && line[v] == ' ') ++v;
      return line.substr(v);
    }
    pos = eol;
  }
  return {};
}

bool ws_client::send_raw(std::string_view bytes) {
  return tls_.write(bytes);
}

bool ws_client::send(ws::opcode op, std::string_view payload) {
  const ws::encoded_frame f = proto_->encode_message(op, as_bytes(payload));
  std::string wire(reinterpret_cast<const char*>(f.header().data()), f.header().size());
  wire.append(reinterpret_cast<const char*>(f.payload.data()), f.payload.size());
  return send_raw(wire);
}

bool ws_client::send_frame(unsigned first_byte, std::string_view payload, bool mask) {
  std::vector<std::byte> out;
  ws::frame_spec spec;
  spec.op = static_cast<ws::opcode>(first_byte & 0x0F);
  spec.fin = (first_byte & 0x80) != 0;
  spec.rsv1 = (first_byte & 0x40) != 0;
  if (mask) spec.mask = 0x37FA213Du;
  ws::append_frame(out, spec, as_bytes(payload));
  // RSV2/RSV3 are not representable in frame_spec: set them in the written header.
  out[0] = std::byte(first_byte);
  return send_raw({reinterpret_cast<const char*>(out.data()), out.size()});
}

int ws_client::read_some(char* buf, int n) {
  for (;;) {
    const int r = SSL_read(tls_.ssl(), buf, n);
    // A blocking read with SO_RCVTIMEO returns EINTR (not a restart) when interrupted; retry.
    if (r <= 0 && SSL_get_error(tls_.ssl(), r) == SSL_ERROR_WANT_READ && errno == EINTR) continue;
    return r;
  }
}

bool ws_client::flush_output() {
  const auto out = proto_->pending_output();
  if (out.empty()) return true;
  const bool ok =
      !auto_reply_ || tls_.write({reinterpret_cast<const char*>(out.data()), out.size()});
  proto_->consume_output(out.size());
  return ok;
}

std::optional<ws_event> ws_client::next() {
  char buf[65536];
  for (;;) {
    if (off_ < in_.size()) {
      const ws::feed_result r = proto_->feed({in_.data() + off_, in_.size() - off_});
      off_ += r.consumed;
      if (r.ev.type != ws::event_type::none) {
        ws_event e{r.ev.type, r.ev.op, std::string(r.ev.text()), r.ev.code};
        flush_output();
        return e;
      }
      flush_output();
      if (r.consumed > 0) continue;
      if (proto_->state() == ws::connection_state::closed ||
          proto_->state() == ws::connection_state::failed) {
        return std::nullopt;
      }
    }
    in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(off_));
    off_ = 0;
    const int n = read_some(buf, sizeof(buf));
    if (n <= 0) return std::nullopt;
    if (keep_received_) received_.append(buf, static_cast<std::size_t>(n));
    in_.insert(in_.end(), reinterpret_cast<const std::byte*>(buf),
               reinterpret_cast<const std::byte*>(buf) + n);
  }
}

std::optional<ws_event> ws_client::next_message() {
  for (;;) {
    auto e = next();
    if (!e || (e->type != ws::event_type::ping && e->type != ws::event_type::pong)) return e;
  }
}

bool ws_client::wait_eof() {
  char buf[4096];
  for (;;) {
    const int n = read_some(buf, sizeof(buf));
    if (n > 0) continue;
    const int err = SSL_get_error(tls_.ssl(), n);
    // close_notify or TCP EOF: closed. A receive timeout shows up as a syscall error with
    // EAGAIN: not closed.
    if (err == SSL_ERROR_ZERO_RETURN) return true;
    if (err == SSL_ERROR_SYSCALL) return errno != EAGAIN && errno != EWOULDBLOCK;
    return err == SSL_ERROR_SSL;
  }
}

std::string make_payload(std::size_t n, bool text) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    s[i] = text ? static_cast<char>('a' + (i * 7 + i / 13) % 26)
                : static_cast<char>((i * 131 + (i >> 8)) & 0xFF);
  }
  return s;
}

std::vector<wire_frame> data_frames(const std::string& bytes) {
  ws::frame_decoder d({.max_frame_bytes = 1 << 20, .expect_masked = false, .allow_rsv1 = true});
  std::vector<wire_frame> out;
  std::span<const std::byte> in(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size());
  bool data = false;
  while (!in.empty()) {
    const ws::decode_step st = d.decode(in);
    in = in.subspan(st.consumed);
    if (st.status == ws::decode_status::error || st.status == ws::decode_status::need_more) break;
    if (st.status == ws::decode_status::header) {
      data = !ws::is_control(d.header().op);
      if (data) out.push_back({d.header().rsv1, {}});
    } else if (data) {
      out.back().payload.append(reinterpret_cast<const char*>(st.payload.data()),
                                st.payload.size());
    }
  }
  return out;
}

}  // namespace ns::test
