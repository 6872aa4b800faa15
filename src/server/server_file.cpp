// SPDX-License-Identifier: MIT
// The server-wide part of static files (document root, cache, 404 page, read buffer pools) and
// the segment plan of one file response. The transfer itself is http1_file.cpp.
#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

#include "http/mime.hpp"
#include "http/response.hpp"
#include "server/server_file.hpp"

namespace ns::server {
namespace {

constexpr std::size_t kept_buffers = 8;

constexpr std::string_view builtin_404 =
    "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>"
    "<body><h1>404 Not Found</h1></body></html>\n";

std::string read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::system_error(errno, std::generic_category(), "cannot read 404 page " + path);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::move(ss).str();
}

}  // namespace

std::uint64_t file_transfer::remaining() const noexcept {
  std::uint64_t n = 0;
  for (std::size_t i = seg; i < segs.size(); ++i) n += segs[i].len;
  return n - (finished() ? 0 : seg_done);
}

void build_segments(file_transfer& t, std::string_view head, const http::static_plan& plan,
                    std::string_view content_type, std::uint64_t size) {
  t.literal.assign(head);
  t.segs.clear();
  t.seg = 0;
  t.seg_done = 0;
  t.segs.push_back({true, 0, head.size()});
  if (!plan.send_body) return;
  auto slice = [&](std::uint64_t off, std::uint64_t len) {
    if (len > 0) t.segs.push_back({false, off, len});
  };
  auto literal = [&](std::size_t from) {
    if (t.literal.size() > from) t.segs.push_back({true, from, t.literal.size() - from});
  };
  if (!plan.multipart) {
    slice(plan.offset, plan.length);
    return;
  }
  // RFC 9110 §14.6: each part is a delimiter, its Content-Type and Content-Range, the slice.
  for (std::size_t i = 0; i < plan.ranges.count; ++i) {
    const std::size_t from = t.literal.size();
    http::append_part_header(t.literal, plan.boundary_view(), content_type, plan.ranges.ranges[i],
                             size);
    literal(from);
    slice(plan.ranges.ranges[i].first, plan.ranges.ranges[i].length());
  }
  const std::size_t from = t.literal.size();
  http::append_multipart_end(t.literal, plan.boundary_view());
  literal(from);
}

file_service::file_service(const static_files_config& cfg)
    : cfg_(cfg), builder_(http::file_cache::options{0, cfg.cache_max_file_bytes}) {
  if (cfg_.read_chunk_bytes == 0) cfg_.read_chunk_bytes = 64 * 1024;
  if (!cfg_.document_root.empty()) root_.emplace(cfg_.document_root);
  if (cfg_.cache_bytes > 0) {
    cache_.emplace(http::file_cache::options{cfg_.cache_bytes, cfg_.cache_max_file_bytes});
  }
  if (cfg_.not_found_page.empty()) {
    not_found_.assign(builtin_404);
    not_found_type_ = http::mime_type(".html");
  } else {
    not_found_ = read_whole(cfg_.not_found_page);
    not_found_type_ = http::mime_type(cfg_.not_found_page);
  }
}

http::file_cache_stats file_service::stats() const noexcept {
  return cache_ ? cache_->stats() : http::file_cache_stats{};
}

read_buffer file_service::take_buffer() {
  if (!pool_.empty()) {
    read_buffer b = std::move(pool_.back());
    pool_.pop_back();
    return b;
  }
  return {std::make_unique<std::byte[]>(cfg_.read_chunk_bytes), cfg_.read_chunk_bytes};
}

read_buffer file_service::take_large_buffer() {
  const std::size_t size = cfg_.large_read_chunk_bytes;
  if (size <= cfg_.read_chunk_bytes || (large_out_ + 1) * size > cfg_.large_read_budget_bytes) {
    return {};
  }
  ++large_out_;
  large_taken_ = true;
  if (!large_pool_.empty()) {
    read_buffer b = std::move(large_pool_.back());
    large_pool_.pop_back();
    return b;
  }
  // No value-initialisation: the bytes are always read into before they are used.
  return {std::unique_ptr<std::byte[]>(new std::byte[size]), size};
}

void file_service::give_back(read_buffer b) noexcept {
  if (!b) return;
  if (b.size == cfg_.read_chunk_bytes) {
    if (pool_.size() < kept_buffers) pool_.push_back(std::move(b));
    return;
  }
  --large_out_;
  // Kept up to the budget: transfers of fast readers follow each other (a client downloading
  // one large file after another), and a fresh buffer of this size costs page faults.
  large_pool_.push_back(std::move(b));
}

std::size_t file_service::release_unused_large_pool() noexcept {
  const std::size_t freed = large_taken_ ? 0 : large_pool_.size() * cfg_.large_read_chunk_bytes;
  if (!large_taken_) std::vector<read_buffer>().swap(large_pool_);
  large_taken_ = false;
  return freed;
}

}  // namespace ns::server
