// SPDX-License-Identifier: MIT
#pragma once
// The fixture of the tests that run ns_serve on a site of their own: a temporary directory with
// a fresh self-signed certificate and key (made at run time, never committed) and a document
// root holding index.html.

#include <gtest/gtest.h>

#include <string>

#include "support/process.hpp"
#include "tls/self_signed.hpp"

namespace ns::test {

class ns_serve_site : public ::testing::Test {
 protected:
  /// Writes server.crt / server.key and www/index.html (@p index) under dir_.
  void make_site(const std::string& index) {
    cert_ = dir_.path() + "/server.crt";
    key_ = dir_.path() + "/server.key";
    tls::write_pem_files(tls::make_self_signed(), cert_, key_);
    root_ = dir_.path() + "/www";
    dir_.write("www/index.html", index);
  }

  temp_dir dir_;
  std::string cert_, key_, root_;
};

}  // namespace ns::test
