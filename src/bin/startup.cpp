// SPDX-License-Identifier: MIT
#include "bin/startup.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>

#include "tls/self_signed.hpp"

namespace ns::serve {
namespace {

namespace fs = std::filesystem;

// Without --cert, a development certificate under certs/dev/ (made on first run).
bool ensure_dev_certificate(options& opt, std::string& error) {
  if (opt.server.plaintext || !opt.server.tls.certificates.empty()) return true;
  try {
    const auto dev = tls::ensure_dev_certificate(opt.dev_cert_dir);
    if (dev.created) {
      std::fprintf(stderr,
                   "ns_serve: made a self-signed development certificate (ECDSA P-256, localhost, "
                   "127.0.0.1): %s; use --cert/--key for a real one\n",
                   dev.cert_file.c_str());
    }
    opt.server.tls.certificates.push_back({dev.cert_file, dev.key_file});
  } catch (const std::exception& e) {
    error = std::string("cannot make the development certificate: ") + e.what();
    return false;
  }
  return true;
}

// The listener parses the same way when it binds (io/listener.cpp); here nothing is bound.
bool is_ip_literal(const std::string& address) {
  in6_addr a{};
  return inet_pton(AF_INET, address.c_str(), &a) == 1 ||
         inet_pton(AF_INET6, address.c_str(), &a) == 1;
}

}  // namespace

bool prepare(options& opt, std::shared_ptr<shared_tls>& tls, std::string& error) {
  std::error_code ec;
  if (!fs::is_directory(opt.root, ec)) {
    error = "--root " + opt.root + " is not a directory";
    return false;
  }
  if (!is_ip_literal(opt.server.bind_address)) {
    error = "--bind: invalid address '" + opt.server.bind_address +
            "' (expected an IPv4 or IPv6 literal)";
    return false;
  }
  for (const auto& pair : opt.server.tls.certificates) {
    for (const std::string* file : {&pair.cert_file, &pair.key_file}) {
      if (::access(file->c_str(), R_OK) != 0) {
        error = std::string(file == &pair.cert_file ? "--cert " : "--key ") + *file + ": " +
                std::strerror(errno);
        return false;
      }
    }
  }
  if (!ensure_dev_certificate(opt, error)) return false;
  if (opt.server.plaintext) return true;
  try {
    tls = shared_tls::create(opt.server.tls);
  } catch (const std::exception& e) {
    // Name the pair(s) on the command line: the TLS layer names the file it was reading.
    std::string pairs;
    for (const auto& p : opt.server.tls.certificates) {
      pairs += (pairs.empty() ? "" : ", ") + ("--cert " + p.cert_file + " --key " + p.key_file);
    }
    error = "cannot use " + pairs + ": " + e.what();
    return false;
  }
  return true;
}

std::unique_ptr<access_log> open_access_log(const options& opt, std::string& error) {
  if (opt.access_log.empty()) return nullptr;
  try {
    return std::make_unique<access_log>(opt.access_log, access_log::default_max_buffered,
                                        opt.access_format);
  } catch (const std::exception& e) {
    error = e.what();
    return nullptr;
  }
}

}  // namespace ns::serve
