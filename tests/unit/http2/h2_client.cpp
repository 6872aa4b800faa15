// SPDX-License-Identifier: MIT
#include "h2_client.hpp"

#include <cstring>
#include <stdexcept>

namespace ns::http2::test {

h2_client::h2_client(bool auto_window, std::uint32_t initial_window) {
  nghttp2_session_callbacks* cb = nullptr;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session_callbacks_set_on_header_callback(cb, &on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, &on_data);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, &on_close);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, &on_frame);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  nghttp2_option_set_no_auto_window_update(opt, auto_window ? 0 : 1);
  if (nghttp2_session_client_new2(&s_, cb, this, opt) != 0) throw std::runtime_error("client");
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cb);
  nghttp2_settings_entry iv{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, initial_window};
  nghttp2_submit_settings(s_, NGHTTP2_FLAG_NONE, &iv, 1);
}

h2_client::~h2_client() {
  nghttp2_session_del(s_);
}

std::int32_t h2_client::request(std::string_view method, std::string_view path,
                                std::vector<std::pair<std::string, std::string>> extra,
                                std::string body) {
  std::vector<std::pair<std::string, std::string>> all = {{":method", std::string(method)},
                                                          {":scheme", "https"},
                                                          {":authority", "localhost"},
                                                          {":path", std::string(path)}};
  all.insert(all.end(), extra.begin(), extra.end());
  std::vector<nghttp2_nv> nv;
  for (auto& [n, v] : all) {
    nv.push_back({reinterpret_cast<std::uint8_t*>(n.data()),
                  reinterpret_cast<std::uint8_t*>(v.data()), n.size(), v.size(),
                  NGHTTP2_NV_FLAG_NONE});
  }
  nghttp2_data_provider prd{};
  prd.read_callback = &read_body;
  const std::int32_t id = nghttp2_submit_request(s_, nullptr, nv.data(), nv.size(),
                                                 body.empty() ? nullptr : &prd, nullptr);
  if (id < 0) throw std::runtime_error(nghttp2_strerror(id));
  if (!body.empty()) bodies_[id] = std::move(body);
  streams[id];
  return id;
}

std::vector<std::byte> h2_client::output() {
  std::vector<std::byte> out;
  for (;;) {
    const std::uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(s_, &data);
    if (n <= 0) break;
    const auto* b = reinterpret_cast<const std::byte*>(data);
    out.insert(out.end(), b, b + n);
  }
  return out;
}

void h2_client::input(std::span<const std::byte> bytes) {
  const ssize_t n = nghttp2_session_mem_recv(
      s_, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  if (n < 0) throw std::runtime_error(std::string("client recv: ") + nghttp2_strerror(int(n)));
}

void h2_client::consume(std::int32_t stream, std::size_t n) {
  nghttp2_session_consume(s_, stream, n);
}

void h2_client::reset(std::int32_t stream, std::uint32_t code) {
  nghttp2_submit_rst_stream(s_, NGHTTP2_FLAG_NONE, stream, code);
}

std::uint32_t h2_client::remote_setting(nghttp2_settings_id id) const {
  return nghttp2_session_get_remote_settings(s_, id);
}

int h2_client::on_header(nghttp2_session*, const nghttp2_frame* f, const std::uint8_t* name,
                         std::size_t nlen, const std::uint8_t* value, std::size_t vlen,
                         std::uint8_t, void* user) {
  auto& self = *static_cast<h2_client*>(user);
  std::string n(reinterpret_cast<const char*>(name), nlen);
  std::string v(reinterpret_cast<const char*>(value), vlen);
  client_stream& st = self.streams[f->hd.stream_id];
  if (n == ":status") {
    st.status = std::stoi(v);
  } else {
    st.headers.emplace_back(std::move(n), std::move(v));
  }
  return 0;
}

int h2_client::on_data(nghttp2_session*, std::uint8_t, std::int32_t stream,
                       const std::uint8_t* data, std::size_t len, void* user) {
  static_cast<h2_client*>(user)->streams[stream].body.append(reinterpret_cast<const char*>(data),
                                                             len);
  return 0;
}

int h2_client::on_close(nghttp2_session*, std::int32_t stream, std::uint32_t code, void* user) {
  client_stream& st = static_cast<h2_client*>(user)->streams[stream];
  st.closed = true;
  st.close_code = code;
  return 0;
}

int h2_client::on_frame(nghttp2_session*, const nghttp2_frame* f, void* user) {
  auto& self = *static_cast<h2_client*>(user);
  if (f->hd.type == NGHTTP2_GOAWAY) {
    self.goaway_ = true;
    self.goaway_code_ = f->goaway.error_code;
  }
  return 0;
}

ssize_t h2_client::read_body(nghttp2_session*, std::int32_t stream, std::uint8_t* buf,
                             std::size_t length, std::uint32_t* flags, nghttp2_data_source*,
                             void* user) {
  std::string& body = static_cast<h2_client*>(user)->bodies_[stream];
  const std::size_t n = std::min(length, body.size());
  std::memcpy(buf, body.data(), n);
  body.erase(0, n);
  if (body.empty()) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

bool exchange(h2_client& c, session& s) {
  bool ok = true;
  for (int round = 0; round < 1000; ++round) {
    const std::vector<std::byte> up = c.output();
    if (!up.empty() && ok) ok = s.feed(up).ok;
    std::vector<std::byte> down;
    for (auto piece = s.take_output(); !piece.empty(); piece = s.take_output()) {
      down.insert(down.end(), piece.begin(), piece.end());
    }
    if (!down.empty()) c.input(down);
    if (up.empty() && down.empty()) break;
  }
  return ok;
}

}  // namespace ns::http2::test
