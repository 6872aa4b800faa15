// SPDX-License-Identifier: MIT
#pragma once
// ns_serve's application: the document root over HTTPS.

#include <string>

#include <network_server/network_server.hpp>

#include "http/path.hpp"

namespace ns::serve {

class static_site : public application_methods {
 public:
  explicit static_site(const std::string& root);

  void server_started_callback(network_server& server) override { server_ = &server; }
  void http_read_callback(const http_request& request, client_num_t client_num) override;

 private:
  void respond(client_num_t client_num, int status, std::string_view content_type,
               std::string_view body, bool head, std::string_view extra_headers = {});

  http::document_root root_;
  http::resolved_file file_;  // reused between requests
  network_server* server_ = nullptr;
  std::string response_;  // reused between responses
};

}  // namespace ns::serve
