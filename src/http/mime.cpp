// SPDX-License-Identifier: MIT
#include "http/mime.hpp"

namespace ns::http {

namespace {

struct entry {
  std::string_view ext;
  std::string_view type;
};

// Most requested first: the lookup is a linear scan over a short table.
constexpr entry k_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"svg", "image/svg+xml; charset=utf-8"},
    {"json", "application/json; charset=utf-8"},
    {"webp", "image/webp"},
    {"woff2", "font/woff2"},
    {"ico", "image/x-icon"},
    {"htm", "text/html; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"avif", "image/avif"},
    {"wasm", "application/wasm"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"xml", "application/xml; charset=utf-8"},
    {"pdf", "application/pdf"},
    {"woff", "font/woff"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"mp3", "audio/mpeg"},
    {"ogg", "audio/ogg"},
    {"wav", "audio/wav"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"tar", "application/x-tar"},
    {"csv", "text/csv; charset=utf-8"},
    {"map", "application/json; charset=utf-8"},
    {"webmanifest", "application/manifest+json; charset=utf-8"},
    {"bmp", "image/bmp"},
};

constexpr std::string_view k_default = "application/octet-stream";

}  // namespace

std::string_view mime_type(std::string_view path) noexcept {
  const auto slash = path.find_last_of('/');
  if (slash != std::string_view::npos) path.remove_prefix(slash + 1);
  const auto dot = path.find_last_of('.');
  if (dot == std::string_view::npos || dot + 1 == path.size()) return k_default;
  const std::string_view ext = path.substr(dot + 1);
  char lower[16];
  if (ext.size() > sizeof lower) return k_default;
  for (std::size_t i = 0; i < ext.size(); ++i) {
    const char c = ext[i];
    lower[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  }
  const std::string_view key(lower, ext.size());
  for (const auto& e : k_types) {
    if (e.ext == key) return e.type;
  }
  return k_default;
}

}  // namespace ns::http
