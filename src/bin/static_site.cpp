// SPDX-License-Identifier: MIT
#include "bin/static_site.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "http/mime.hpp"
#include "http/path.hpp"

namespace ns::serve {

static_site::static_site(const std::string& root) : root_(root) {}

void static_site::respond(client_num_t client_num, int status, std::string_view content_type,
                          std::string_view body, bool head, std::string_view extra_headers) {
  char line[160];
  std::snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n", status,
                status == 200 ? "OK" : status == 301 ? "Moved Permanently" :
                status == 403 ? "Forbidden" : status == 404 ? "Not Found" :
                status == 405 ? "Method Not Allowed" : "Bad Request");
  response_.assign(line);
  response_ += "Server: network_server\r\nContent-Type: ";
  response_ += content_type;
  response_ += "\r\nContent-Length: ";
  response_ += std::to_string(body.size());
  response_ += "\r\n";
  response_ += extra_headers;
  response_ += "\r\n";
  if (!head) response_ += body;
  server_->http_write(client_num, response_);
}

void static_site::http_read_callback(const http_request& request, client_num_t client_num) {
  const bool head = request.method == "HEAD";
  if (request.method != "GET" && !head) {
    respond(client_num, 405, "text/plain", "method not allowed\n", false, "Allow: GET, HEAD\r\n");
    return;
  }
  root_.resolve(request.target, file_);
  const http::resolved_file& r = file_;
  if (r.status == 301) {
    respond(client_num, 301, "text/plain", "moved\n", head, "Location: " + r.location + "\r\n");
    return;
  }
  if (r.status != 200) {
    respond(client_num, r.status, "text/plain", r.status == 403 ? "forbidden\n" : "not found\n",
            head);
    return;
  }
  std::string body(static_cast<std::size_t>(r.st.st_size), '\0');
  std::size_t got = 0;
  while (got < body.size()) {
    const ssize_t n = pread(r.fd.get(), body.data() + got, body.size() - got, static_cast<off_t>(got));
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  file_.fd.reset();
  body.resize(got);
  respond(client_num, 200, http::mime_type(r.fs_path), body, head);
}

}  // namespace ns::serve
