// SPDX-License-Identifier: MIT
// The public face of network_server: forwards to impl (core.hpp).
#include <network_server/server.hpp>

#include "server/core.hpp"

namespace ns {

network_server::network_server(server_config config, application_methods& app)
    : impl_(std::make_unique<impl>(*this, std::move(config), app, shared_resources{})) {}

network_server::network_server(server_config config, application_methods& app,
                               std::shared_ptr<shared_tls> tls)
    : impl_(std::make_unique<impl>(*this, std::move(config), app,
                                   shared_resources{std::move(tls), nullptr})) {}

network_server::network_server(server_config config, application_methods& app,
                               shared_resources shared)
    : impl_(std::make_unique<impl>(*this, std::move(config), app, std::move(shared))) {}

network_server::~network_server() = default;

int network_server::start() {
  return impl_->run();
}

void network_server::stop() noexcept {
  impl_->request_stop();
}

void network_server::drain(std::chrono::milliseconds websocket_grace) noexcept {
  impl_->request_drain(websocket_grace);
}

void network_server::drain(std::chrono::milliseconds websocket_grace,
                           std::shared_ptr<connection_mover> mover) {
  impl_->request_drain(websocket_grace, std::move(mover));
}

int network_server::adopt_connection(int fd, std::span<const std::byte> state) {
  return impl_->adopt_connection(fd, state);
}

bool network_server::accepting() const noexcept {
  return impl_->accepting();
}

void network_server::recheck_accept() noexcept {
  impl_->request_recheck_accept();
}

int network_server::listener_fd() const noexcept {
  return impl_->listener_fd();
}

std::uint16_t network_server::port() const noexcept {
  return impl_->port();
}

int network_server::http_write(client_num_t client_num, std::span<const std::byte> data) {
  const iovec v{const_cast<std::byte*>(data.data()), data.size()};
  return impl_->http_write(client_num, std::span<const iovec>(&v, 1),
                           server::write_kind::http_write);
}

int network_server::http_writev(client_num_t client_num, std::span<const iovec> pieces) {
  return impl_->http_write(client_num, pieces, server::write_kind::http_writev);
}

int network_server::http_respond(client_num_t client_num, int status,
                                 std::span<const http_header> headers,
                                 std::span<const std::byte> body) {
  return impl_->http_respond(client_num, status, headers, body);
}

int network_server::http_close(client_num_t client_num) {
  return impl_->http_close(client_num);
}

int network_server::http_send_file(client_num_t client_num, const http_request& request) {
  return impl_->http_send_file(client_num, request, {}, true, file_source::document_root);
}

int network_server::http_send_file(client_num_t client_num, const http_request& request,
                                   std::string_view path, file_source from) {
  return impl_->http_send_file(client_num, request, path, false, from);
}

int network_server::http_post_read(client_num_t client_num) {
  return impl_->http_post_read(client_num);
}

int network_server::http_begin_chunked(client_num_t client_num, int status,
                                       std::span<const http_header> headers) {
  return impl_->http_begin_chunked(client_num, status, headers);
}

int network_server::http_write_chunk(client_num_t client_num, std::span<const std::byte> data) {
  return impl_->http_write_chunk(client_num, data);
}

int network_server::http_end_chunked(client_num_t client_num) {
  return impl_->http_end_chunked(client_num);
}

file_cache_stats network_server::http_file_cache_stats() const noexcept {
  return impl_->cache_stats();
}

server_stats network_server::stats() const noexcept {
  return impl_->stats();
}

std::vector<connection_memory> network_server::largest_connections(std::size_t n) const {
  return impl_->largest_connections(n);
}

int network_server::websocket_write(client_num_t client_num, std::span<const std::byte> data,
                                    ws_message_type type) {
  const iovec v{const_cast<std::byte*>(data.data()), data.size()};
  return impl_->ws_write(client_num, std::span<const iovec>(&v, 1), type,
                         server::write_kind::ws_write);
}

int network_server::websocket_writev(client_num_t client_num, std::span<const iovec> pieces,
                                     ws_message_type type) {
  return impl_->ws_write(client_num, pieces, type, server::write_kind::ws_writev);
}

int network_server::websocket_close(client_num_t client_num, std::uint16_t code,
                                    std::string_view reason) {
  return impl_->ws_close(client_num, code, reason);
}

std::int64_t network_server::queued_bytes(client_num_t client_num) const noexcept {
  return impl_->queued_bytes(client_num);
}

std::string_view network_server::client_address(client_num_t client_num) {
  return impl_->client_address(client_num);
}

int network_server::subscribe(client_num_t client_num, std::string_view topic) {
  return impl_->subscribe(client_num, topic);
}

int network_server::unsubscribe(client_num_t client_num, std::string_view topic) {
  return impl_->unsubscribe(client_num, topic);
}

int network_server::publish(std::string_view topic, std::span<const std::byte> data,
                            ws_message_type type) {
  return impl_->topics().hub().publish(topic, data, type);
}

topic_hub& network_server::topics() noexcept {
  return impl_->topics().hub();
}

void network_server::broadcast_begin(std::span<const std::byte> data, ws_message_type type) {
  impl_->ws_broadcast_begin(data, type);
}

void network_server::broadcast_to(client_num_t client_num, broadcast_result& result) {
  impl_->ws_broadcast_to(client_num, result);
}

void network_server::broadcast_end() noexcept {
  impl_->ws_broadcast_end();
}

int network_server::raw_adopt(int fd, client_num_t& client_num) {
  return impl_->raw_adopt(fd, client_num);
}

int network_server::raw_read(client_num_t client_num, std::span<std::byte> buffer) {
  return impl_->raw_read(client_num, buffer, {}, false);
}

int network_server::raw_readv(client_num_t client_num, std::span<const iovec> iov) {
  return impl_->raw_read(client_num, {}, iov, true);
}

int network_server::raw_write(client_num_t client_num, std::span<const std::byte> data) {
  const iovec v{const_cast<std::byte*>(data.data()), data.size()};
  return impl_->raw_write(client_num, std::span<const iovec>(&v, 1), server::write_kind::raw_write);
}

int network_server::raw_writev(client_num_t client_num, std::span<const iovec> pieces) {
  return impl_->raw_write(client_num, pieces, server::write_kind::raw_writev);
}

int network_server::raw_close(client_num_t client_num) {
  return impl_->raw_close(client_num);
}

client_num_t network_server::eventfd_open() {
  return impl_->eventfd_open();
}

int network_server::eventfd_prepare(client_num_t client_num, std::uint64_t additional_info) {
  return impl_->eventfd_prepare(client_num, additional_info);
}

int network_server::eventfd_trigger(client_num_t client_num) {
  return impl_->eventfd_trigger(client_num);
}

int network_server::eventfd_close(client_num_t client_num) {
  return impl_->eventfd_close(client_num);
}

int network_server::post(std::function<void()> fn) {
  return impl_->post(std::move(fn));
}

}  // namespace ns
