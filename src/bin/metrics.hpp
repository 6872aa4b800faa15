// SPDX-License-Identifier: MIT
#pragma once
// The --metrics-path document: every counter of the loops (server_stats, the file cache), the
// process-wide ones (topic hub, Redis engine, access log) and the histograms, named after
// Prometheus' conventions (ns_…_total counters, base units) and written by prom::text_writer.
// The loops' samples are taken on their own threads (status_hub::gather); this only formats.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <network_server/network_server.hpp>
#include <network_server/redis_engine.hpp>

namespace ns::serve {

/// What one loop thread contributes to a scrape, read on that thread.
struct thread_sample {
  server_stats stats;
  file_cache_stats cache;
  std::vector<connection_memory> largest;  ///< this loop's connections holding the most memory
};

/// What the process contributes; an empty optional is left out of the document.
struct process_sample {
  std::optional<topic_hub_stats> topics;
  std::optional<redis_engine_stats> redis;
  std::uint64_t access_log_dropped = 0;
};

/// The exposition (text format 0.0.4) of @p threads (label thread="0"… in their order) and
/// @p process. Histograms are summed over the threads; per-loop counters carry the label.
std::string metrics_text(std::span<const thread_sample> threads, const process_sample& process);

}  // namespace ns::serve
