// SPDX-License-Identifier: MIT
#include "support/tls_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <thread>

namespace ns::test {

int tcp_connect(std::uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

namespace {

// A server's io_uring on a thread of the test process can interrupt blocking socket calls of
// other threads (EINTR); that is not the peer's doing, so the call is simply made again.
template <class F>
int retry_eintr(SSL* ssl, F call) {
  for (;;) {
    errno = 0;
    const int n = call();
    if (n > 0 || SSL_get_error(ssl, n) != SSL_ERROR_SYSCALL || errno != EINTR) return n;
  }
}

}  // namespace

tls_client::tls_client() = default;
tls_client::~tls_client() { close(); }

void tls_client::close() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  if (fd_ >= 0) ::close(fd_);
  ssl_ = nullptr;
  ctx_ = nullptr;
  fd_ = -1;
}

bool tls_client::connect(std::uint16_t port, const options& opt) {
  close();
  fd_ = tcp_connect(port);
  if (fd_ < 0) {
    error_ = std::string("connect: ") + std::strerror(errno);
    return false;
  }
  timeval tv{static_cast<time_t>(opt.timeout.count() / 1000),
             static_cast<suseconds_t>((opt.timeout.count() % 1000) * 1000)};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (!send_preamble(opt)) return false;
  ctx_ = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx_, opt.min_version);
  if (opt.max_version != 0) SSL_CTX_set_max_proto_version(ctx_, opt.max_version);
  if (opt.min_version < TLS1_2_VERSION) SSL_CTX_set_security_level(ctx_, 0);
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_);
  if (!opt.server_name.empty()) SSL_set_tlsext_host_name(ssl_, opt.server_name.c_str());
  if (!opt.alpn.empty()) {
    std::string wire;
    wire.push_back(static_cast<char>(opt.alpn.size()));
    wire += opt.alpn;
    SSL_set_alpn_protos(ssl_, reinterpret_cast<const unsigned char*>(wire.data()),
                        static_cast<unsigned>(wire.size()));
  }
  ERR_clear_error();
  if (retry_eintr(ssl_, [&] { return SSL_connect(ssl_); }) != 1) {
    char buf[256];
    ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
    error_ = std::string("handshake: ") + buf;
    return false;
  }
  return true;
}

bool tls_client::send_preamble(const options& opt) {
  std::string_view rest = opt.preamble;
  while (!rest.empty()) {
    const std::size_t n =
        opt.preamble_piece == 0 ? rest.size() : std::min(opt.preamble_piece, rest.size());
    const ssize_t sent =
        ::send(fd_, rest.data(), n, MSG_NOSIGNAL | (opt.preamble_piece == 0 ? MSG_MORE : 0));
    if (sent <= 0) {
      if (sent < 0 && errno == EINTR) continue;
      error_ = std::string("preamble: ") + std::strerror(errno);
      return false;
    }
    rest.remove_prefix(static_cast<std::size_t>(sent));
    if (opt.preamble_piece != 0 && !rest.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  return true;
}

std::string tls_client::version() const { return ssl_ ? SSL_get_version(ssl_) : ""; }

bool tls_client::write(std::string_view data) {
  while (!data.empty()) {
    const int len = static_cast<int>(std::min<std::size_t>(data.size(), 1 << 20));
    int n = retry_eintr(ssl_, [&] { return SSL_write(ssl_, data.data(), len); });
    if (n <= 0) {
      error_ = "SSL_write failed";
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

int tls_client::read_some(char* buf, int n) {
  if (!buffered_.empty()) {
    int k = std::min<int>(n, static_cast<int>(buffered_.size()));
    std::memcpy(buf, buffered_.data(), static_cast<std::size_t>(k));
    buffered_.erase(0, static_cast<std::size_t>(k));
    return k;
  }
  return retry_eintr(ssl_, [&] { return SSL_read(ssl_, buf, n); });
}

http_response tls_client::read_response(bool head_request) {
  http_response r;
  std::string data;
  char buf[16384];
  std::size_t header_end = std::string::npos;
  while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
    int n = read_some(buf, sizeof(buf));
    if (n <= 0) return r;
    data.append(buf, static_cast<std::size_t>(n));
  }
  const std::string head = data.substr(0, header_end);
  std::string rest = data.substr(header_end + 4);
  if (head.size() < 12 || head.compare(0, 5, "HTTP/") != 0) return r;
  r.status = std::atoi(head.c_str() + 9);
  std::size_t pos = head.find("\r\n");
  while (pos != std::string::npos && pos + 2 < head.size()) {
    std::size_t next = head.find("\r\n", pos + 2);
    std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
    std::size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      std::size_t vstart = line.find_first_not_of(' ', colon + 1);
      r.headers[name] = vstart == std::string::npos ? "" : line.substr(vstart);
    }
    pos = next;
  }
  const bool no_body = head_request || r.status == 204 || r.status == 304 || r.status / 100 == 1;
  auto cl = r.headers.find("content-length");
  if (no_body) {
    r.complete = true;
    buffered_ = rest + buffered_;
    return r;
  }
  if (cl != r.headers.end()) {
    const std::size_t want = std::stoull(cl->second);
    while (rest.size() < want) {
      int n = read_some(buf, sizeof(buf));
      if (n <= 0) break;
      rest.append(buf, static_cast<std::size_t>(n));
    }
    r.body = rest.substr(0, std::min(want, rest.size()));
    if (rest.size() > want) buffered_ = rest.substr(want) + buffered_;
    r.complete = r.body.size() == want;
    return r;
  }
  // No length: the body runs until close.
  r.body = rest;
  for (;;) {
    int n = read_some(buf, sizeof(buf));
    if (n <= 0) break;
    r.body.append(buf, static_cast<std::size_t>(n));
  }
  r.complete = true;
  return r;
}

std::string tls_client::read_until_close() {
  std::string out = buffered_;
  buffered_.clear();
  char buf[16384];
  for (;;) {
    int n = retry_eintr(ssl_, [&] { return SSL_read(ssl_, buf, sizeof(buf)); });
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

bool tls_client::wait_closed() {
  char buf[4096];
  for (;;) {
    int n = retry_eintr(ssl_, [&] { return SSL_read(ssl_, buf, sizeof(buf)); });
    if (n > 0) continue;
    const int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_ZERO_RETURN) return true;
    if (err == SSL_ERROR_SYSCALL && (errno == 0 || errno == ECONNRESET || errno == EPIPE)) return true;
    if (err == SSL_ERROR_SSL) return true;  // e.g. unexpected EOF reported as an SSL error
    return false;  // timeout (EAGAIN)
  }
}

http_response https_get(std::uint16_t port, const std::string& target,
                        const tls_client::options& opt) {
  tls_client c;
  if (!c.connect(port, opt)) return {};
  c.write("GET " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  return c.read_response();
}

}  // namespace ns::test
