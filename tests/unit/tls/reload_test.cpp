// SPDX-License-Identifier: MIT
#include "tls/context_holder.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "pump.hpp"
#include "test_certs.hpp"

using namespace ns::tls;
using namespace ns::tls::test;

namespace {

struct temp_dir {
  std::string path;
  temp_dir() {
    char t[] = "/tmp/ns_tls_reload_XXXXXX";
    path = mkdtemp(t);
  }
  ~temp_dir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

std::string peer_cn(const std::shared_ptr<const context>& ctx) {
  session server(ctx);
  session client(client_ctx(), {"localhost", {}, nullptr});
  mem_pipe p{client, server};
  if (!p.pump()) return "failed: " + client.last_error();
  char cn[256] = {};
  X509_NAME_get_text_by_NID(
      X509_get_subject_name(SSL_get0_peer_certificate(client.native_handle())), NID_commonName, cn,
      sizeof cn);
  return cn;
}

}  // namespace

TEST(TlsReload, NewCertificateForNewSessionsOldSessionsUnaffected) {
  temp_dir d;
  ns::tls_config cfg;
  cfg.certificates.push_back({d.path + "/cert.pem", d.path + "/key.pem"});
  write_pem_files(pki().chain.leaf, cfg.certificates[0].cert_file, cfg.certificates[0].key_file);
  context_holder holder(context::server(cfg));
  EXPECT_EQ(peer_cn(holder.get()), "localhost");

  // A session established before the reload keeps its context.
  session old_server(holder.get());
  session old_client(client_ctx(), {"localhost", {}, nullptr});
  mem_pipe old{old_client, old_server};
  ASSERT_TRUE(old.pump());

  cert_options renewed;
  renewed.common_name = "renewed";
  write_pem_files(issue_leaf(pki().chain.intermediate, renewed), cfg.certificates[0].cert_file,
                  cfg.certificates[0].key_file);
  EXPECT_EQ(holder.reload(cfg), "");
  EXPECT_EQ(peer_cn(holder.get()), "renewed");

  old.send(old_client, "still alive");
  EXPECT_EQ(old.server_received, "still alive");
}

TEST(TlsReload, BadFileKeepsOldContext) {
  temp_dir d;
  ns::tls_config cfg;
  cfg.certificates.push_back({d.path + "/cert.pem", d.path + "/key.pem"});
  write_pem_files(pki().chain.leaf, cfg.certificates[0].cert_file, cfg.certificates[0].key_file);
  context_holder holder(context::server(cfg));
  const auto before = holder.get();

  std::ofstream(cfg.certificates[0].cert_file) << "garbage";
  const std::string err = holder.reload(cfg);
  EXPECT_NE(err.find("no certificate"), std::string::npos) << err;
  EXPECT_EQ(holder.get(), before);
  EXPECT_EQ(peer_cn(holder.get()), "localhost");

  ::unlink(cfg.certificates[0].key_file.c_str());
  pem_pair other = pki().a_leaf;
  std::ofstream(cfg.certificates[0].cert_file) << other.cert_pem;
  EXPECT_NE(holder.reload(cfg).find("key.pem"), std::string::npos);
  EXPECT_EQ(holder.get(), before);
}

TEST(TlsReload, TicketsSurviveReload) {
  temp_dir d;
  ns::tls_config cfg;
  cfg.certificates.push_back({d.path + "/cert.pem", d.path + "/key.pem"});
  write_pem_files(pki().chain.leaf, cfg.certificates[0].cert_file, cfg.certificates[0].key_file);
  context_holder holder(context::server(cfg));
  auto cctx = client_ctx();
  saved_session ticket;
  {
    session server(holder.get());
    session client(cctx, {"localhost", {}, nullptr});
    mem_pipe p{client, server};
    ASSERT_TRUE(p.pump());
    ticket = client.saved();
  }
  ASSERT_NE(ticket, nullptr);
  ASSERT_EQ(holder.reload(cfg), "");
  session server(holder.get());
  session client(cctx, {"localhost", {}, ticket});
  mem_pipe p{client, server};
  ASSERT_TRUE(p.pump());
  EXPECT_TRUE(server.resumed());
}
