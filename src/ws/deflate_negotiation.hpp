// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// permessage-deflate negotiation (RFC 7692 §5, §7.1): parse offers, choose one, answer it.

#include <span>
#include <string>
#include <string_view>

namespace ns::ws {

/// The agreed permessage-deflate parameters (both directions).
struct deflate_params {
  bool enabled = false;                     ///< the extension is in use on this connection
  bool server_no_context_takeover = false;  ///< we reset our compressor after every message
  bool client_no_context_takeover = false;  ///< the client resets its compressor: we may drop
                                            ///< our inflater between messages
  /// LZ77 window we announced for our compressor (8..15). zlib cannot make raw deflate streams
  /// with a 256-byte window, so for 8 we compress with 9: zlib never emits a distance above
  /// 2^9 - 262 = 250, which a 256-byte window decodes, so the announcement stays truthful.
  int server_max_window_bits = 15;
  int client_max_window_bits = 15;  ///< window the client compresses with (our inflater's)
};

/// Server-side policy applied when answering offers.
struct deflate_policy {
  bool enabled = true;  ///< accept permessage-deflate at all
  /// One compressor per thread shared by all connections: forces server_no_context_takeover
  /// (RFC 7692 §7.1.1.1 lets the server add it unasked) so no connection keeps deflate state.
  bool shared_compressor = false;
  int server_max_window_bits = 15;  ///< upper bound of our compression window (8..15)
  int client_max_window_bits = 15;  ///< asked of clients that offer client_max_window_bits
};

/// Outcome of negotiation.
struct deflate_negotiation {
  deflate_params params;  ///< params.enabled is false if no offer was acceptable
  std::string response;   ///< Sec-WebSocket-Extensions value to send; empty if not enabled
};

/// Chooses the first acceptable permessage-deflate offer found in the given
/// Sec-WebSocket-Extensions header values (one element per header line, in order).
///
/// An offer with an unknown parameter, a duplicated parameter or a bad value is declined and the
/// next offer is tried (§7.1). A header that is not valid `extension-list` syntax (RFC 6455 §9.1)
/// stops the search at the error.
[[nodiscard]] deflate_negotiation negotiate_deflate(std::span<const std::string_view> header_values,
                                                    const deflate_policy& policy);

/// Convenience overload for a single header value.
[[nodiscard]] deflate_negotiation negotiate_deflate(std::string_view header_value,
                                                    const deflate_policy& policy);

/// Formats the response value for @p params, e.g.
/// "permessage-deflate; server_no_context_takeover; client_max_window_bits=10".
[[nodiscard]] std::string format_deflate_response(const deflate_params& params,
                                                  bool include_server_bits,
                                                  bool include_client_bits);

}  // namespace ns::ws
