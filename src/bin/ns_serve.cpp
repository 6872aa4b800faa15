// SPDX-License-Identifier: MIT
// ns_serve: serves a directory over HTTPS from one network_server per thread.
#include <signal.h>
#include <sys/stat.h>

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <network_server/network_server.hpp>
#include <network_server/redis_engine.hpp>

#include "bin/access_log.hpp"
#include "bin/options.hpp"
#include "bin/static_site.hpp"
#include "bin/ws_endpoints.hpp"
#include "bin/status.hpp"
#include "tls/self_signed.hpp"

namespace {

namespace fs = std::filesystem;

// Without --cert, a development certificate under certs/dev/ (made on first run).
bool ensure_dev_certificate(ns::serve::options& opt, std::string& error) {
  if (opt.server.plaintext || !opt.server.tls.certificates.empty()) return true;
  try {
    const auto dev = ns::tls::ensure_dev_certificate(opt.dev_cert_dir);
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
  for (const auto& pair : opt.server.tls.certificates) {
    for (const std::string* file : {&pair.cert_file, &pair.key_file}) {
      if (::access(file->c_str(), R_OK) != 0) {
        std::fprintf(stderr, "ns_serve: %s %s: %s\n", file == &pair.cert_file ? "--cert" : "--key",
                     file->c_str(), std::strerror(errno));
        return 2;
      }
    }
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

  // After the mask: the writer thread inherits it (a signal must not land there).
  std::unique_ptr<ns::serve::access_log> access;
  try {
    if (!opt.access_log.empty()) access = std::make_unique<ns::serve::access_log>(opt.access_log);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ns_serve: %s\n", e.what());
    return 2;
  }

  // One topic hub for all threads: a /ws/chat room (a topic) spans every loop, and with
  // --redis every instance on that Redis.
  const std::shared_ptr<ns::topic_hub> topics = ns::topic_hub::create();
  std::shared_ptr<ns::redis_engine> redis;
  if (!opt.redis_url.empty()) {
    ns::redis_options ro;
    ro.url = opt.redis_url;
    ro.max_message_bytes = opt.server.ws.max_message_bytes;
    try {
      redis = ns::redis_engine::start(topics, std::move(ro));  // connects in the background
    } catch (const std::exception& e) {
      std::fprintf(stderr, "ns_serve: --redis: %s\n", e.what());
      return 2;
    }
  }
  // Per thread: the site wrapped by the access log and the status endpoint (bin/status.hpp).
  ns::serve::status_hub hub;
  hub.set_topics(topics.get());
  hub.set_redis(redis.get());
  ns::serve::metrics_endpoint metrics;
  metrics.path = opt.metrics_path;
  for (const std::string& net : opt.metrics_from) {
    std::string why;
    if (!metrics.from.add(net, why)) {  // checked by parse_options already
      std::fprintf(stderr, "ns_serve: --metrics-from: %s\n", why.c_str());
      return 2;
    }
  }
  // With --metrics-listen the metrics leave the site's listener for their own (plaintext, one
  // loop, not counted in the metrics it serves).
  const bool metrics_apart = !opt.metrics_bind.empty();
  const ns::serve::metrics_endpoint* site_metrics =
      !metrics.path.empty() && !metrics_apart ? &metrics : nullptr;
  ns::serve::not_found_app metrics_site;
  std::unique_ptr<ns::serve::instrumented_app> metrics_app;
  std::unique_ptr<ns::network_server> metrics_server;
  std::vector<std::unique_ptr<ns::serve::ws_site>> sites;  // files + /ws/echo, /ws/chat
  std::vector<std::unique_ptr<ns::serve::instrumented_app>> apps;
  std::vector<std::unique_ptr<ns::network_server>> servers;
  std::shared_ptr<ns::shared_tls> tls;  // one for all threads: one reload, shared tickets
  try {
    if (!opt.server.plaintext) {
      try {
        tls = ns::shared_tls::create(opt.server.tls);
      } catch (const std::exception& e) {
        // Name the pair(s) on the command line: the TLS layer names the file it was reading.
        std::string pairs;
        for (const auto& p : opt.server.tls.certificates) {
          pairs += (pairs.empty() ? "" : ", ") + ("--cert " + p.cert_file + " --key " + p.key_file);
        }
        throw std::runtime_error("cannot use " + pairs + ": " + e.what());
      }
    }
    for (unsigned i = 0; i < opt.threads; ++i) {
      sites.push_back(std::make_unique<ns::serve::ws_site>());
      apps.push_back(std::make_unique<ns::serve::instrumented_app>(
          *sites.back(), access.get(), opt.status_path, hub, site_metrics));
      auto cfg = opt.server;
      ns::serve::static_site::configure(cfg, opt.root);  // document root, 404 page
      if (i > 0) cfg.port = servers.front()->port();  // all threads share the first's port
      // One loop on an ephemeral port has no one to share it with: without SO_REUSEPORT the
      // kernel can never hand the same port to another process's reuse-port socket.
      if (opt.server.port == 0 && opt.threads == 1) cfg.reuse_port = false;
      servers.push_back(std::make_unique<ns::network_server>(cfg, *apps.back(),
                                                             ns::shared_resources{tls, topics}));
      hub.add(*servers.back());
    }
    if (metrics_apart) {
      ns::server_config mc;
      mc.plaintext = true;
      mc.bind_address = opt.metrics_bind;
      mc.port = opt.metrics_port;
      mc.reuse_port = false;
      mc.max_connections = 64;  // scrapers, not clients
      mc.files.cache_bytes = 0;
      metrics_app =
          std::make_unique<ns::serve::instrumented_app>(metrics_site, nullptr, "", hub, &metrics);
      metrics_server = std::make_unique<ns::network_server>(mc, *metrics_app);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ns_serve: %s\n", e.what());
    return 2;
  }
  std::printf("ns_serve: serving %s on %s://%s:%u/ with %u thread(s)\n", opt.root.c_str(),
              opt.server.plaintext ? "http" : "https", opt.server.bind_address.c_str(),
              servers.front()->port(), opt.threads);
  if (metrics_server) {
    std::printf("ns_serve: metrics on http://%s:%u%s\n", opt.metrics_bind.c_str(),
                metrics_server->port(), opt.metrics_path.c_str());
  }
  std::fflush(stdout);

  std::vector<std::thread> loops;
  std::vector<int> results(servers.size(), 0);
  for (std::size_t i = 0; i < servers.size(); ++i) {
    loops.emplace_back([&, i] { results[i] = servers[i]->start(); });
  }
  int metrics_result = 0;
  std::thread metrics_loop;
  if (metrics_server) metrics_loop = std::thread([&] { metrics_result = metrics_server->start(); });
  std::atomic<bool> loops_done{false};
  std::thread signal_thread([&] {
    for (;;) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (loops_done.load()) return;  // our own wake-up after the loops ended
      if (sig == SIGHUP) {
        if (access) {  // logrotate: write to a fresh file at the same path
          const std::string err = access->reopen();
          if (!err.empty()) std::fprintf(stderr, "ns_serve: SIGHUP: %s\n", err.c_str());
        }
        if (!tls) continue;
        const std::string err = tls->reload(opt.server.tls);
        if (err.empty()) {
          std::fprintf(stderr, "ns_serve: SIGHUP: certificates reloaded\n");
        } else {
          std::fprintf(stderr, "ns_serve: SIGHUP: reload failed, keeping the current certificates: %s\n",
                       err.c_str());
        }
        continue;
      }
      std::fprintf(stderr, "ns_serve: %s, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
      for (auto& s : servers) s->stop();
      if (metrics_server) metrics_server->stop();
      return;
    }
  });
  for (auto& t : loops) t.join();
  if (metrics_loop.joinable()) {
    metrics_server->stop();  // the site's loops ended (a signal, or on their own)
    metrics_loop.join();
  }
  // The engine's thread hands messages to the loops: it ends (joined) before they are freed.
  topics->set_engine(nullptr);
  redis.reset();
  // A loop may end on its own (error); then wake the signal thread so it returns.
  loops_done.store(true);
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  for (int rc : results) {
    if (rc != 0) return 1;
  }
  if (metrics_result != 0) return 1;
  return 0;
}
