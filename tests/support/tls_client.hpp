// SPDX-License-Identifier: MIT
#pragma once
// A blocking OpenSSL client over a real TCP socket, for integration tests: connect, handshake
// (optionally pinned to one TLS version), send, read an HTTP/1.1 response.

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace ns::test {

struct http_response {
  int status = 0;
  std::map<std::string, std::string> headers;  ///< names lower-cased
  std::string body;
  bool complete = false;  ///< a whole response was read (Content-Length or close)
};

class tls_client {
 public:
  struct options {
    int min_version = TLS1_2_VERSION;
    int max_version = 0;  ///< 0 = highest
    std::string server_name = "localhost";
    std::string alpn;  ///< e.g. "http/1.1"
    std::chrono::milliseconds timeout{5000};
    /// Bytes sent on the TCP connection before the ClientHello (a PROXY protocol header). Sent
    /// with MSG_MORE, so they normally leave in one segment with the ClientHello; with
    /// preamble_piece > 0 instead in pieces of that size, 20 ms apart (a header split across
    /// segments).
    std::string preamble;
    std::size_t preamble_piece = 0;
  };

  tls_client();
  ~tls_client();
  tls_client(const tls_client&) = delete;
  tls_client& operator=(const tls_client&) = delete;

  /// TCP connect to 127.0.0.1:port and TLS handshake. False with error() on failure.
  bool connect(std::uint16_t port, const options& opt);
  bool connect(std::uint16_t port) { return connect(port, options{}); }
  bool write(std::string_view data);
  /// Reads one HTTP response (headers + Content-Length body, or until close).
  http_response read_response(bool head_request = false);
  /// Reads whatever arrives until the peer closes or the timeout passes.
  std::string read_until_close();
  /// True if the peer closed (TLS close_notify or TCP EOF) within the timeout.
  bool wait_closed();
  void close();

  [[nodiscard]] const std::string& error() const { return error_; }
  [[nodiscard]] SSL* ssl() const { return ssl_; }
  [[nodiscard]] int fd() const { return fd_; }
  [[nodiscard]] std::string version() const;

 private:
  int read_some(char* buf, int n);
  bool send_preamble(const options& opt);
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  std::string buffered_;
  std::string error_;
};

/// TCP connect to 127.0.0.1:port; -1 on failure. The caller owns the fd.
int tcp_connect(std::uint16_t port);

/// One GET over a fresh TLS connection.
http_response https_get(std::uint16_t port, const std::string& target,
                        const tls_client::options& opt = {});

}  // namespace ns::test
