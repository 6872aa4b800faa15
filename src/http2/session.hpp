// SPDX-License-Identifier: MIT
#pragma once
// The server side of one HTTP/2 connection, sans-IO: nghttp2's session driven through
// nghttp2_session_mem_recv (plaintext in) and nghttp2_session_mem_send (plaintext out), the way
// llhttp sits under HTTP/1.1. Framing, HPACK, flow control and the protocol checks of RFC 9113
// are nghttp2's; this class turns its callbacks into request events and turns responses (a
// status, fields and a body read on demand) into frames.
//
// Bodies leave through a data provider: nghttp2 asks for DATA only while the stream's and the
// connection's windows are open, so a response is produced no faster than the peer takes it.
// A source with nothing ready says so (`body_chunk::deferred`) and is asked again after
// resume().
//
// Views handed to the events (request fields, body pieces) are valid only during the call.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct nghttp2_session;

namespace ns::http2 {

/// RFC 9113 §7 error codes used by the server.
enum class error_code : std::uint32_t {
  no_error = 0x0,
  protocol_error = 0x1,
  internal_error = 0x2,
  flow_control_error = 0x3,
  refused_stream = 0x7,
  cancel = 0x8,
  enhance_your_calm = 0xb,
};

/// The SETTINGS the server sends first (RFC 9113 §6.5.2) and its own limits.
struct settings {
  std::uint32_t max_concurrent_streams = 100;
  std::uint32_t max_header_list_size = 64 * 1024;  ///< decoded field bytes per header block
  std::uint32_t initial_window_size = 65535;       ///< per stream, for request bodies
  bool enable_connect_protocol = true;             ///< RFC 8441 extended CONNECT
};

/// One field of a request or response head.
struct field {
  std::string_view name;
  std::string_view value;
};

/// A complete request head (pseudo-header fields already checked by nghttp2, RFC 9113 §8.3.1).
struct request_head {
  std::string_view method;
  std::string_view scheme;
  std::string_view authority;
  std::string_view path;
  std::string_view protocol;      ///< `:protocol` of an extended CONNECT (RFC 8441), else empty
  std::span<const field> fields;  ///< regular fields, names in lowercase
  bool end_stream = false;        ///< no body follows
};

/// What a body source gives when asked for DATA.
struct body_chunk {
  std::size_t bytes = 0;  ///< written into the buffer
  bool eof = false;       ///< this is the last piece (END_STREAM)
  bool deferred = false;  ///< nothing ready now; ask again after session::resume()
};

/// What the session reports. Every call runs inside feed() or take_output().
class events {
 public:
  virtual ~events() = default;
  /// A request head is complete on @p stream.
  virtual void on_request(std::int32_t stream, const request_head& head) = 0;
  /// Body bytes of @p stream (flow control is acknowledged by the session right away).
  virtual void on_body(std::int32_t stream, std::span<const std::byte> piece) = 0;
  /// The request body of @p stream is complete (END_STREAM received).
  virtual void on_body_end(std::int32_t stream) = 0;
  /// Fill @p out with the next bytes of @p stream's response body.
  virtual body_chunk read_body(std::int32_t stream, std::span<std::byte> out) = 0;
  /// @p stream is closed (complete, reset by either side): forget it. @p code is the reset's
  /// error code, or no_error for a stream that ended normally.
  virtual void on_stream_closed(std::int32_t stream, error_code code) = 0;
};

/// The result of feed().
struct feed_result {
  bool ok = true;          ///< false: the connection is broken; send take_output() and close
  std::string_view error;  ///< nghttp2's reason when !ok
};

class session {
 public:
  /// Starts a server session; the server's SETTINGS are queued for the first take_output().
  session(const settings& s, events& ev);
  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  /// Client bytes (the preface first). Events fire during the call.
  feed_result feed(std::span<const std::byte> in);

  /// The next serialized frames to send (body sources are read here). The view is valid until
  /// the next call on the session; call again until it is empty.
  std::span<const std::byte> take_output();

  /// Answers @p stream: HEADERS with @p status and @p fields, then (unless @p has_body is
  /// false) DATA from events::read_body. Returns 0 or a negative nghttp2 error.
  int respond(std::int32_t stream, int status, std::span<const field> fields, bool has_body);
  /// An interim response (1xx) on @p stream.
  int inform(std::int32_t stream, int status);
  /// A stream whose body source said `deferred` has data again.
  void resume(std::int32_t stream);
  /// RST_STREAM @p code on @p stream.
  void reset(std::int32_t stream, error_code code);
  /// GOAWAY with @p code and the last stream id seen; the session ends once it is sent
  /// (streams still open are abandoned): for errors and an idle connection.
  void go_away(error_code code);
  /// GOAWAY NO_ERROR with the last stream id seen (RFC 9113 §6.8): streams up to it are still
  /// answered, later ones ignored; the session ends when the last of them closes.
  void finish_streams();
  /// Announces a graceful shutdown (RFC 9113 §6.8: a GOAWAY with the maximum id first).
  void begin_shutdown();

  /// The session has nothing to read or write any more (GOAWAY exchanged, streams done).
  [[nodiscard]] bool finished() const;
  /// Bytes waiting to be sent, by nghttp2's own accounting.
  [[nodiscard]] bool want_write() const;
  /// nghttp2's reason for the last failure of feed() or take_output().
  [[nodiscard]] std::string_view last_error() const noexcept { return error_; }

 private:
  friend struct callbacks;
  struct stream_fields {
    std::int32_t id = 0;
    std::string storage;              // names and values, back to back
    std::vector<std::uint32_t> ends;  // end of each name, then value
    std::size_t list_bytes = 0;       // RFC 9113 §6.5.2 size (name + value + 32 per field)
    bool refused = false;             // over the header list limit: reset, fields dropped
  };
  stream_fields* fields_for(std::int32_t stream);
  void emit_request(stream_fields& f, bool end_stream);
  void forget_fields(std::int32_t stream);
  settings settings_;

  nghttp2_session* s_ = nullptr;
  events& ev_;
  std::string_view error_;
  std::string names_;                 // lowercased response field names (respond)
  std::vector<stream_fields> heads_;  // header blocks being received (few at a time)
  std::vector<field> scratch_;        // the fields of the request being reported
};

}  // namespace ns::http2
