// SPDX-License-Identifier: MIT
// ns_serve: serves a directory over HTTPS from one network_server per thread.
#include <signal.h>
#include <sys/stat.h>

#include <unistd.h>

#include <algorithm>
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
#include "bin/connection_handover.hpp"
#include "bin/options.hpp"
#include "bin/socket_activation.hpp"
#include "bin/startup.hpp"
#include "bin/static_site.hpp"
#include "bin/status.hpp"
#include "bin/upgrade.hpp"
#include "bin/ws_endpoints.hpp"

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
  std::shared_ptr<ns::shared_tls> tls;  // one for all threads: one reload, shared tickets
  if (!ns::serve::prepare(opt, tls, error)) {
    std::fprintf(stderr, "ns_serve: %s\n", error.c_str());
    return 2;
  }
  if (opt.check_config) {  // like nginx -t: everything a start loads, nothing bound
    if (!opt.access_log.empty() && opt.access_log != "-" &&
        ns::serve::open_access_log(opt, error) == nullptr) {
      std::fprintf(stderr, "ns_serve: %s\n", error.c_str());
      return 2;
    }
    std::printf("ns_serve: configuration ok\n");
    return 0;
  }
  // Sockets systemd bound for us (socket activation), or the process we replace handed over
  // (SIGUSR2), stand in for --bind/--port.
  std::vector<int> inherited;
  int handover_channel = -1;
  if (!ns::serve::take_activated_listeners(opt.server.bind_address, opt.server.port, inherited,
                                           error) ||
      (inherited.empty() && !ns::serve::receive_listeners(opt.server.bind_address, opt.server.port,
                                                          handover_channel, inherited, error))) {
    std::fprintf(stderr, "ns_serve: %s\n", error.c_str());
    return 2;
  }
  // What SIGUSR2 starts: this program as it was named at start (a deploy replaces the file).
  ns::serve::upgrade_plan plan;
  plan.args.assign(argv + 1, argv + argc);
  plan.timeout = opt.upgrade_timeout;
  plan.binary = opt.upgrade_binary;
  std::error_code ec;
  if (plan.binary.empty()) plan.binary = std::filesystem::read_symlink("/proc/self/exe", ec);
  // Signals are taken by one thread with sigwait; every loop thread has them blocked.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // After the mask: the writer thread inherits it (a signal must not land there).
  std::unique_ptr<ns::serve::access_log> access = ns::serve::open_access_log(opt, error);
  if (!opt.access_log.empty() && access == nullptr) {
    std::fprintf(stderr, "ns_serve: %s\n", error.c_str());
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
  // Every inherited socket gets at least one loop; with more loops than sockets they share.
  const std::size_t loop_count = std::max<std::size_t>(opt.threads, inherited.size());
  try {
    for (std::size_t i = 0; i < loop_count; ++i) {
      sites.push_back(std::make_unique<ns::serve::ws_site>());
      apps.push_back(std::make_unique<ns::serve::instrumented_app>(
          *sites.back(), access.get(), opt.status_path, hub, site_metrics));
      auto cfg = opt.server;
      ns::serve::static_site::configure(cfg, opt.root);  // document root, 404 page
      if (!inherited.empty()) cfg.listen_fd = inherited[i % inherited.size()];
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
      // Not handed over on SIGUSR2: the new process binds it again while the old one still
      // holds it, which SO_REUSEPORT allows (same user only).
      mc.reuse_port = true;
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
  for (int fd : inherited) ::close(fd);  // each server accepts on its own duplicate
  std::vector<int> listeners;            // what SIGUSR2 hands over, read before the loops run
  for (const auto& s : servers) listeners.push_back(s->listener_fd());
  std::printf("ns_serve: serving %s on %s://%s:%u/ with %zu thread(s)%s\n", opt.root.c_str(),
              opt.server.plaintext ? "http" : "https", opt.server.bind_address.c_str(),
              servers.front()->port(), servers.size(),
              inherited.empty() ? "" : " on inherited sockets");
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
  // Started by an upgrade: the old process stops accepting once we said so.
  ns::serve::confirm_ready(handover_channel, inherited.size());
  std::atomic<bool> loops_done{false};
  std::thread release_watch = ns::serve::receive_moves(handover_channel, servers, loops_done);
  int metrics_result = 0;
  std::thread metrics_loop;
  if (metrics_server) metrics_loop = std::thread([&] { metrics_result = metrics_server->start(); });
  bool handed_over = false;
  std::thread signal_thread([&] {
    for (;;) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (loops_done.load()) return;  // our own wake-up after the loops ended
      if (sig == SIGUSR2) {
        if (handed_over) continue;  // draining already
        pid_t successor = 0;
        std::string why;
        int channel = -1;
        if (!ns::serve::hand_over(plan, listeners, successor, channel, why)) {
          std::fprintf(stderr, "ns_serve: SIGUSR2: upgrade failed, still serving: %s\n",
                       why.c_str());
          continue;
        }
        handed_over = true;
        std::fprintf(stderr, "ns_serve: SIGUSR2: pid %d accepts on the listeners now; draining\n",
                     static_cast<int>(successor));
        // Live connections at a clean point move to the new process; the rest drain here.
        const auto mover = std::make_shared<ns::serve::channel_mover>(channel);
        for (auto& s : servers) s->drain(opt.drain_timeout, mover);
        ns::serve::release_listeners(*mover, servers, std::chrono::seconds(2));
        continue;
      }
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
  if (release_watch.joinable()) release_watch.join();
  if (handed_over) {
    // An upgrade's old process ends with no connection or listener left: say so, so an
    // operator (and the upgrade stress scenario) can see it. Sockets still open here: the
    // hand-over channel (closed with the servers, right after) and nothing else.
    std::error_code fd_ec;
    std::size_t open_fds = 0, sockets = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", fd_ec);
         !fd_ec && it != std::filesystem::directory_iterator(); it.increment(fd_ec)) {
      ++open_fds;
      std::error_code link_ec;
      if (std::filesystem::read_symlink(it->path(), link_ec).string().starts_with("socket:")) {
        ++sockets;
      }
    }
    // The count includes the directory being listed.
    std::fprintf(stderr, "ns_serve: drained; exiting with %zu descriptor(s) open, %zu socket(s)\n",
                 open_fds > 0 ? open_fds - 1 : 0, sockets);
  }
  for (int rc : results) {
    if (rc != 0) return 1;
  }
  if (metrics_result != 0) return 1;
  return 0;
}
