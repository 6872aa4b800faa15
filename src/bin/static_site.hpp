// SPDX-License-Identifier: MIT
#pragma once
// ns_serve's application: the document root over HTTPS, answered by http_send_file (ranges,
// validators, MIME types, directory index, the file cache, io_uring reads of large files).

#include <string>

#include <network_server/network_server.hpp>

namespace ns::serve {

class static_site : public application_methods {
 public:
  /// Points @p cfg's static files at @p root; `root/404.html`, when present, becomes the body
  /// of 404 answers.
  static void configure(server_config& cfg, const std::string& root);

  void server_started_callback(network_server& server) override { server_ = &server; }
  void http_read_callback(const http_request& request, client_num_t client_num) override;

 private:
  network_server* server_ = nullptr;
};

}  // namespace ns::serve
