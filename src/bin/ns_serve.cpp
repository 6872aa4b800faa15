// SPDX-License-Identifier: MIT
// ns_serve: serves a directory over HTTPS from one network_server per thread.
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <network_server/network_server.hpp>

#include "bin/options.hpp"
#include "bin/static_site.hpp"
#include "tls/self_signed.hpp"

namespace {

namespace fs = std::filesystem;

// Makes (once) the development certificate used when no --cert is given.
bool ensure_dev_certificate(ns::serve::options& opt, std::string& error) {
  if (opt.server.plaintext || !opt.server.tls.certificates.empty()) return true;
  const fs::path dir = opt.dev_cert_dir;
  const std::string cert = (dir / "server.crt").string();
  const std::string key = (dir / "server.key").string();
  std::error_code ec;
  if (!fs::exists(cert, ec) || !fs::exists(key, ec)) {
    fs::create_directories(dir, ec);
    if (ec) {
      error = "cannot create " + dir.string() + ": " + ec.message();
      return false;
    }
    try {
      ns::tls::write_pem_files(ns::tls::make_self_signed(), cert, key);
    } catch (const std::exception& e) {
      error = std::string("cannot write the development certificate: ") + e.what();
      return false;
    }
    std::fprintf(stderr,
                 "ns_serve: made a self-signed development certificate (ECDSA P-256, localhost, "
                 "127.0.0.1) in %s; use --cert/--key for a real one\n",
                 dir.c_str());
  }
  opt.server.tls.certificates.push_back({cert, key});
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  ns::serve::options opt;
  std::string error;
  if (!ns::serve::parse_options(argc, argv, opt, error)) {
    std::fprintf(stderr, "ns_serve: %s\n", error.c_str());
    return 2;
  }
  if (opt.help) {
    std::fputs(ns::serve::usage().c_str(), stdout);
    return 0;
  }
  ns::set_log_level(opt.level);
  std::error_code ec;
  if (!fs::is_directory(opt.root, ec)) {
    std::fprintf(stderr, "ns_serve: --root %s is not a directory\n", opt.root.c_str());
    return 2;
  }
  if (!ensure_dev_certificate(opt, error)) {
    std::fprintf(stderr, "ns_serve: %s\n", error.c_str());
    return 2;
  }

  // Signals are taken by one thread with sigwait; every loop thread has them blocked.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::vector<std::unique_ptr<ns::serve::static_site>> sites;
  std::vector<std::unique_ptr<ns::network_server>> servers;
  try {
    for (unsigned i = 0; i < opt.threads; ++i) {
      sites.push_back(std::make_unique<ns::serve::static_site>(opt.root));
      auto cfg = opt.server;
      if (i > 0) cfg.port = servers.front()->port();  // all threads share the first's port
      servers.push_back(std::make_unique<ns::network_server>(cfg, *sites.back()));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ns_serve: %s\n", e.what());
    return 2;
  }
  std::printf("ns_serve: serving %s on %s://%s:%u/ with %u thread(s)\n", opt.root.c_str(),
              opt.server.plaintext ? "http" : "https", opt.server.bind_address.c_str(),
              servers.front()->port(), opt.threads);
  std::fflush(stdout);

  std::vector<std::thread> loops;
  std::vector<int> results(servers.size(), 0);
  for (std::size_t i = 0; i < servers.size(); ++i) {
    loops.emplace_back([&, i] { results[i] = servers[i]->start(); });
  }
  std::atomic<bool> loops_done{false};
  std::thread signal_thread([&] {
    for (;;) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (loops_done.load()) return;  // our own wake-up after the loops ended
      if (sig == SIGHUP) {
        std::fprintf(stderr, "ns_serve: SIGHUP (certificate reload is not wired yet)\n");
        continue;
      }
      std::fprintf(stderr, "ns_serve: %s, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
      for (auto& s : servers) s->stop();
      return;
    }
  });
  for (auto& t : loops) t.join();
  // A loop may end on its own (error); then wake the signal thread so it returns.
  loops_done.store(true);
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  for (int rc : results) {
    if (rc != 0) return 1;
  }
  return 0;
}
