// SPDX-License-Identifier: MIT
// certs/gen.sh output loads into a server context (files, SNI, ECDSA + RSA side by side).
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdlib>
#include <string>

#include "pump.hpp"
#include "tls/context.hpp"

using namespace ns::tls;
using namespace ns::tls::test;

TEST(TlsGenScript, CertsLoadAndServe) {
  if (std::system("command -v openssl >/dev/null 2>&1") != 0) GTEST_SKIP() << "no openssl CLI";
  const char* src = std::getenv("NS_SOURCE_DIR");
  const std::string root = src != nullptr ? src : ".";
  char tmpl[] = "/tmp/ns_tls_gen_XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  ASSERT_EQ(std::system(("bash '" + root + "/certs/gen.sh' '" + dir + "' >/dev/null").c_str()), 0);

  ns::tls_config cfg;
  for (const char* n : {"server", "server-rsa", "sni-a", "sni-b"}) {
    cfg.certificates.push_back({dir + "/" + n + ".pem", dir + "/" + n + ".key"});
  }
  auto ctx = context::server(cfg);
  EXPECT_EQ(ctx->group_count(), 3U);
  EXPECT_EQ(ctx->group_for("x.b.localhost"), 2U);

  client_options o;
  std::string ca;
  {
    FILE* f = std::fopen((dir + "/ca.pem").c_str(), "r");
    ASSERT_NE(f, nullptr);
    char buf[4096];
    ca.append(buf, std::fread(buf, 1, sizeof buf, f));
    std::fclose(f);
  }
  o.ca_pem = ca;
  for (const char* name : {"localhost", "a.localhost", "x.b.localhost"}) {
    session server(ctx);
    session client(context::client(o), {name, {"http/1.1"}, nullptr});
    mem_pipe p{client, server};
    EXPECT_TRUE(p.pump()) << name << ": " << client.last_error();
  }
  // The expired certificate is refused by a verifying client.
  ns::tls_config bad;
  bad.certificates.push_back({dir + "/expired.pem", dir + "/expired.key"});
  session server(context::server(bad));
  session client(context::client(o), {"localhost", {}, nullptr});
  mem_pipe p{client, server};
  EXPECT_FALSE(p.pump());
  EXPECT_NE(client.last_error().find("expired"), std::string::npos) << client.last_error();
  // A second run keeps the files (idempotent).
  ASSERT_EQ(
      std::system(("bash '" + root + "/certs/gen.sh' '" + dir + "' | grep -q made").c_str()) != 0,
      true);
  std::system(("rm -rf '" + dir + "'").c_str());
}
