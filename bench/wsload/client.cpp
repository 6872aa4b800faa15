// SPDX-License-Identifier: MIT
#include "client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <string_view>

#include <openssl/err.h>
#include <openssl/rand.h>

#include "ws/deflate_negotiation.hpp"
#include "ws/handshake.hpp"

namespace ns::bench {
namespace {

// One read buffer for the whole (single-threaded) load generator.
std::array<std::byte, 64 * 1024> g_rbuf;

std::string base64_key() {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::array<unsigned char, 16> raw{};
  RAND_bytes(raw.data(), static_cast<int>(raw.size()));
  std::string out;
  for (std::size_t i = 0; i < 15; i += 3) {
    const unsigned v = (raw[i] << 16) | (raw[i + 1] << 8) | raw[i + 2];
    for (int s = 18; s >= 0; s -= 6) out.push_back(alphabet[(v >> s) & 63]);
  }
  const unsigned v = raw[15] << 16;
  out.push_back(alphabet[(v >> 18) & 63]);
  out.push_back(alphabet[(v >> 12) & 63]);
  out += "==";
  return out;
}

// Case-insensitive search of a header value in a response head ("\r\nName: value\r\n").
std::string_view header_value(std::string_view head, std::string_view name) {
  std::size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string_view::npos) {
    pos += 2;
    if (head.size() - pos < name.size() + 1) break;
    bool match = true;
    for (std::size_t i = 0; i < name.size() && match; ++i) {
      match = std::tolower(static_cast<unsigned char>(head[pos + i])) ==
              std::tolower(static_cast<unsigned char>(name[i]));
    }
    if (!match || head[pos + name.size()] != ':') continue;
    std::size_t b = pos + name.size() + 1;
    const std::size_t e = head.find("\r\n", b);
    while (b < e && (head[b] == ' ' || head[b] == '\t')) ++b;
    return head.substr(b, e - b);
  }
  return {};
}

}  // namespace

std::uint64_t now_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

client::client(SSL_CTX* ctx, const client_config& cfg, client_handler& handler, int epfd,
               std::uint32_t mask_seed)
    : ctx_(ctx), cfg_(cfg), handler_(handler), epfd_(epfd), mask_seed_(mask_seed) {}

client::~client() {
  abort();
}

void client::abort() {
  if (phase_ != phase::done) phase_ = phase::failed;
  if (ssl_ != nullptr) SSL_free(ssl_);
  ssl_ = nullptr;
  if (fd_ >= 0) ::close(fd_);  // also leaves the epoll set
  fd_ = -1;
}

bool client::start() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    fail(std::string("socket: ") + std::strerror(errno));
    return false;
  }
  const int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(cfg_.port);
  inet_pton(AF_INET, cfg_.host.c_str(), &sa.sin_addr);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 && errno != EINPROGRESS) {
    fail(std::string("connect: ") + std::strerror(errno));
    return false;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = this;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd_, &ev) != 0) {
    fail(std::string("epoll_ctl: ") + std::strerror(errno));
    return false;
  }
  return true;
}

void client::fail(std::string why) {
  if (phase_ == phase::failed || phase_ == phase::done) return;
  why_ = std::move(why);
  phase_ = phase::failed;
  abort();
  handler_.on_closed(*this);
}

void client::finish() {
  if (phase_ == phase::failed || phase_ == phase::done) return;
  phase_ = phase::done;
  abort();
  handler_.on_closed(*this);
}

void client::queue(std::span<const std::byte> bytes) {
  if (out_off_ == out_.size()) {
    out_.clear();
    out_off_ = 0;
  }
  out_.insert(out_.end(), bytes.begin(), bytes.end());
}

void client::queue_request() {
  std::string req;
  if (cfg_.http_only) {
    req = "GET " + cfg_.path + " HTTP/1.1\r\nHost: " + cfg_.host + "\r\n\r\n";
  } else {
    key_ = base64_key();
    req = "GET " + cfg_.path + " HTTP/1.1\r\nHost: " + cfg_.host +
          "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
          "Sec-WebSocket-Key: " +
          key_ + "\r\n";
    if (!cfg_.extensions_offer.empty()) {
      req += "Sec-WebSocket-Extensions: " + cfg_.extensions_offer + "\r\n";
    }
    req += "\r\n";
  }
  queue(std::as_bytes(std::span(req.data(), req.size())));
  phase_ = phase::response;
}

bool client::flush() {
  while (out_off_ < out_.size()) {
    const int n = SSL_write(ssl_, out_.data() + out_off_, static_cast<int>(out_.size() - out_off_));
    if (n > 0) {
      out_off_ += static_cast<std::size_t>(n);
      continue;
    }
    const int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) break;
    fail("SSL_write failed");
    return false;
  }
  if (out_off_ == out_.size()) {
    out_.clear();
    out_off_ = 0;
  }
  return send_net();
}

bool client::send_net() {
  if (ssl_ == nullptr) return true;
  const auto pending = static_cast<std::size_t>(BIO_ctrl_pending(wbio_));
  if (pending > 0) {
    const std::size_t from = net_out_.size();
    net_out_.resize(from + pending);
    BIO_read(wbio_, net_out_.data() + from, static_cast<int>(pending));
  }
  while (net_off_ < net_out_.size()) {
    const ssize_t n =
        ::send(fd_, net_out_.data() + net_off_, net_out_.size() - net_off_, MSG_NOSIGNAL);
    if (n > 0) {
      net_off_ += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;  // EPOLLOUT resumes
    fail(std::string("send: ") + std::strerror(errno));
    return false;
  }
  net_out_.clear();
  net_off_ = 0;
  return true;
}

bool client::recv_net() {
  while (!eof_) {
    const ssize_t n = ::read(fd_, g_rbuf.data(), g_rbuf.size());
    if (n > 0) {
      BIO_write(rbio_, g_rbuf.data(), static_cast<int>(n));
      if (static_cast<std::size_t>(n) < g_rbuf.size()) return true;  // drained
      continue;
    }
    if (n == 0) {
      eof_ = true;
      BIO_set_mem_eof_return(rbio_, 0);  // SSL_read reports EOF once the bytes are read
      return true;
    }
    if (errno == EAGAIN || errno == EINTR) return true;
    fail(std::string("read: ") + std::strerror(errno));
    return false;
  }
  return true;
}

void client::drive() {
  if (fd_ < 0) return;
  if (phase_ == phase::connecting) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return fail(std::string("connect: ") + std::strerror(err));
    ssl_ = SSL_new(ctx_);
    rbio_ = BIO_new(BIO_s_mem());
    wbio_ = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(rbio_, -1);  // empty = "retry", until the socket's EOF
    SSL_set_bio(ssl_, rbio_, wbio_);
    SSL_set_tlsext_host_name(ssl_, "localhost");
    SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                           SSL_MODE_RELEASE_BUFFERS);
    phase_ = phase::tls;
  }
  if (!send_net() || !recv_net()) return;
  if (phase_ == phase::tls) {
    const int r = SSL_connect(ssl_);
    if (r != 1) {
      const int err = SSL_get_error(ssl_, r);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        send_net();
        if (eof_) fail("EOF during the TLS handshake");
        return;
      }
      ERR_clear_error();
      return fail("TLS handshake failed");
    }
    queue_request();
  }
  if (!flush()) return;
  read_all();
  if (phase_ != phase::failed && phase_ != phase::done) flush();
}

void client::read_all() {
  while (phase_ != phase::failed && phase_ != phase::done) {
    const int n = SSL_read(ssl_, g_rbuf.data(), static_cast<int>(g_rbuf.size()));
    if (n > 0) {
      on_plaintext(std::span(g_rbuf.data(), static_cast<std::size_t>(n)));
      continue;
    }
    const int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return;
    ERR_clear_error();
    if (phase_ == phase::closing) return finish();  // EOF after the close handshake
    return fail(err == SSL_ERROR_ZERO_RETURN ? "server closed" : "connection lost");
  }
}

void client::on_plaintext(std::span<const std::byte> in) {
  if (phase_ == phase::response && body_left_ == 0) {
    head_.append(reinterpret_cast<const char*>(in.data()), in.size());
    const std::size_t end = head_.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (head_.size() > 16384) fail("response head too long");
      return;
    }
    const std::size_t rest = head_.size() - (end + 4);
    const std::string tail = head_.substr(end + 4);
    head_.resize(end + 2);
    if (!parse_response()) return;
    in = std::as_bytes(std::span(tail.data(), rest));
    if (cfg_.http_only) {
      if (in.size() > body_left_) return fail("more than the response arrived");
      body_left_ -= in.size();
      if (body_left_ == 0) {
        phase_ = phase::open;
        handler_.on_open(*this);
      }
      return;
    }
    phase_ = phase::open;
    handler_.on_open(*this);
    feed_ws(in);
    return;
  }
  if (phase_ == phase::response) {  // http body
    if (in.size() > body_left_) return fail("more than the response arrived");
    body_left_ -= in.size();
    if (body_left_ == 0) {
      phase_ = phase::open;
      handler_.on_open(*this);
    }
    return;
  }
  if (ws_ == nullptr) return fail("data on an idle HTTP connection");
  feed_ws(in);
}

bool client::parse_response() {
  const std::string_view head = head_;
  if (cfg_.http_only) {
    if (!head.starts_with("HTTP/1.1 200")) {
      fail("HTTP status: " + std::string(head.substr(0, head.find('\r'))));
      return false;
    }
    body_left_ = std::stoull(std::string(
        header_value(head, "content-length").empty() ? "0" : header_value(head, "content-length")));
    return true;
  }
  if (!head.starts_with("HTTP/1.1 101")) {
    fail("upgrade refused: " + std::string(head.substr(0, head.find('\r'))));
    return false;
  }
  const auto accept = ws::compute_accept(key_);
  if (header_value(head, "sec-websocket-accept") != std::string_view(accept.data(), 28)) {
    fail("bad Sec-WebSocket-Accept");
    return false;
  }
  ws::connection_options opts;
  opts.limits.max_frame_bytes = cfg_.max_message;
  opts.limits.max_message_bytes = cfg_.max_message;
  opts.client_role = true;
  opts.mask_seed = mask_seed_;
  opts.compression.threshold = 0;  // browsers compress every message they are allowed to
  const std::string_view ext = header_value(head, "sec-websocket-extensions");
  if (!ext.empty()) {
    if (cfg_.extensions_offer.empty()) {
      fail("extension answered but not offered");
      return false;
    }
    // The answer uses the offer's grammar; accept whatever the server chose.
    ws::deflate_policy any;
    const auto agreed = ws::negotiate_deflate(ext, any);
    if (!agreed.params.enabled) {
      fail("unusable Sec-WebSocket-Extensions answer: " + std::string(ext));
      return false;
    }
    opts.deflate = agreed.params;
    deflate_ = true;
  }
  ws_ = std::make_unique<ws::connection>(opts);
  return true;
}

void client::feed_ws(std::span<const std::byte> in) {
  while (phase_ == phase::open || phase_ == phase::closing) {
    const auto r = ws_->feed(in);
    in = in.subspan(r.consumed);
    if (!ws_->pending_output().empty()) {
      queue(ws_->pending_output());
      ws_->consume_output(ws_->pending_output().size());
    }
    switch (r.ev.type) {
      case ws::event_type::message:
        handler_.on_message(*this, r.ev);
        break;
      case ws::event_type::close:
        phase_ = phase::closing;  // wait for the server to end TCP
        break;
      case ws::event_type::failed:
        return fail(std::string("protocol error: ") + std::string(ws::reason(r.ev.err)));
      default:
        break;
    }
    if (in.empty() && r.ev.type == ws::event_type::none) return;
    if (r.consumed == 0 && r.ev.type == ws::event_type::none) return;
  }
}

void client::send_message(ws::opcode op, std::span<const std::byte> payload, bool compress) {
  if (ws_ == nullptr || phase_ != phase::open) return;
  const auto frame = ws_->encode_message(op, payload, compress);
  queue(frame.header());
  queue(frame.payload);
  flush();
}

void client::start_close() {
  if (ws_ == nullptr || phase_ != phase::open) return finish();
  ws_->close(1000);
  queue(ws_->pending_output());
  ws_->consume_output(ws_->pending_output().size());
  phase_ = phase::closing;
  flush();
}

}  // namespace ns::bench
