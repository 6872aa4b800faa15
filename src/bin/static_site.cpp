// SPDX-License-Identifier: MIT
#include "bin/static_site.hpp"

#include <sys/stat.h>

#include "server/log.hpp"

namespace ns::serve {

void static_site::configure(server_config& cfg, const std::string& root) {
  cfg.files.document_root = root;
  const std::string page = root + "/404.html";
  struct stat st {};
  if (cfg.files.not_found_page.empty() && ::stat(page.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    cfg.files.not_found_page = page;
  }
}

void static_site::http_read_callback(const http_request& request, client_num_t client_num) {
  // Every request is a file request: http_send_file answers 404/405/… itself and reports the
  // outcome in http_writev_callback. It fails only for a connection already going away.
  const int rc = server_->http_send_file(client_num, request);
  if (rc < 0) {
    NS_LOG(log_level::debug, "http_send_file: ", rc);
    server_->http_close(client_num);
  }
}

}  // namespace ns::serve
