// SPDX-License-Identifier: MIT
#pragma once
// The "memory" object of the status endpoint: accounted bytes by kind, the cap's counters and
// the connections holding the most (server_stats::memory, network_server::largest_connections).

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <network_server/stats.hpp>

namespace ns::serve {

/// Connections listed under "largest".
inline constexpr std::size_t status_largest_connections = 10;

/// Adds one loop's @p s to the process view @p t (the cap and its state are the process's).
void add_memory(memory_counters& t, const memory_counters& s) noexcept;
/// Merges one loop's largest connections into @p all, keeping the @p n largest.
void keep_largest(std::vector<connection_memory>& all, std::vector<connection_memory> more,
                  std::size_t n);
/// Appends `"memory": {...}, ` to @p j.
void append_memory_json(std::string& j, const memory_counters& m,
                        std::span<const connection_memory> largest);

}  // namespace ns::serve
