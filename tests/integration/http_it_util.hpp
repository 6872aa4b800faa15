// SPDX-License-Identifier: MIT
#pragma once
// Helpers shared by the HTTP integration tests: curl through popen, chunked and
// multipart/byteranges decoding of raw response bodies.

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "support/process.hpp"
#include "tls/self_signed.hpp"

namespace ns::test {

/// Makes start_ns_serve find the build tree when the test runs without NS_BINARY_DIR (ctest
/// currently passes only the first variable of the ENVIRONMENT list). An existing value wins.
inline void ensure_binary_dir() {
#ifdef NS_TEST_BINARY_DIR
  ::setenv("NS_BINARY_DIR", NS_TEST_BINARY_DIR, 0);
#endif
}

/// Runs a shell command and returns what it wrote on stdout.
inline std::string run_command(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

/// Runs `curl --insecure --silent <args>` and returns its stdout (stderr discarded).
inline std::string curl(const std::string& args) {
  return run_command("curl --insecure --silent --show-error " + args + " 2>/dev/null");
}

/// @p n pseudo-random bytes, the same for the same @p seed.
inline std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

/// The static-file site of the HTTP/1.1 and HTTP/2 file tests, under @p dir: server.crt and
/// server.key (made now), secret.txt outside the root, and in www/ index.html, 404.html,
/// small.bin (5,000 random bytes, cached) and big.bin (3 MiB + 123, over the cache's per-file
/// bound: streamed). Returns {small.bin, big.bin}'s contents.
inline std::pair<std::string, std::string> write_file_site(const temp_dir& dir) {
  const std::string& d = dir.path();
  tls::write_pem_files(tls::make_self_signed(), d + "/server.crt", d + "/server.key");
  std::pair<std::string, std::string> files{random_bytes(5000, 1),
                                            random_bytes(3 * 1024 * 1024 + 123, 2)};
  dir.write("secret.txt", "TOPSECRET outside the root\n");
  dir.write("www/index.html", "<!doctype html><title>home</title>\n");
  dir.write("www/404.html", "<h1>custom not found</h1>\n");
  dir.write("www/small.bin", files.first);
  dir.write("www/big.bin", files.second);
  return files;
}

/// The body of a chunked message (RFC 9112 §7.1); sets @p ok to false when the framing is bad
/// or the last chunk is missing.
inline std::string decode_chunked(const std::string& in, bool& ok, std::size_t* chunks = nullptr) {
  std::string out;
  std::size_t pos = 0;
  ok = false;
  if (chunks) *chunks = 0;
  for (;;) {
    const std::size_t eol = in.find("\r\n", pos);
    if (eol == std::string::npos) return out;
    const std::size_t size = std::strtoull(in.substr(pos, eol - pos).c_str(), nullptr, 16);
    pos = eol + 2;
    if (size == 0) {
      ok = in.compare(pos, 2, "\r\n") == 0;
      return out;
    }
    if (pos + size + 2 > in.size() || in.compare(pos + size, 2, "\r\n") != 0) return out;
    out.append(in, pos, size);
    pos += size + 2;
    if (chunks) ++*chunks;
  }
}

/// One part of a multipart/byteranges body.
struct byterange_part {
  std::string content_range;
  std::string content_type;
  std::string data;
};

/// Splits a multipart/byteranges body (RFC 9110 §14.6) by @p boundary. Empty on bad framing.
inline std::vector<byterange_part> split_byteranges(const std::string& body,
                                                    const std::string& boundary) {
  std::vector<byterange_part> parts;
  const std::string delim = "--" + boundary;
  std::size_t pos = body.find(delim);
  while (pos != std::string::npos) {
    pos += delim.size();
    if (body.compare(pos, 2, "--") == 0) return parts;  // close delimiter
    if (body.compare(pos, 2, "\r\n") != 0) return {};
    const std::size_t head_end = body.find("\r\n\r\n", pos);
    if (head_end == std::string::npos) return {};
    byterange_part part;
    std::size_t line = pos + 2;
    while (line < head_end) {
      std::size_t eol = body.find("\r\n", line);
      const std::string field = body.substr(line, eol - line);
      const std::size_t colon = field.find(':');
      if (colon != std::string::npos) {
        std::string name = field.substr(0, colon);
        for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        const std::string value = field.substr(field.find_first_not_of(' ', colon + 1));
        if (name == "content-range") part.content_range = value;
        if (name == "content-type") part.content_type = value;
      }
      line = eol + 2;
    }
    const std::size_t data_at = head_end + 4;
    const std::size_t next = body.find("\r\n" + delim, data_at);
    if (next == std::string::npos) return {};
    part.data = body.substr(data_at, next - data_at);
    parts.push_back(std::move(part));
    pos = next + 2;
  }
  return {};
}

}  // namespace ns::test
