// SPDX-License-Identifier: MIT
// Secrets are zeroed when their holders go. Two kinds of proof: objects built in storage the
// test owns are searched, after their destructor ran, for the secret, key and IV they held
// (found before, gone after); for objects the test cannot reach (a session's key-log buffers),
// the wipe observer records what each wipe cleared, and the test looks there for the real
// traffic secrets, learnt from the client's own key log.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "pump.hpp"
#include "record_layer_support.hpp"
#include "test_certs.hpp"
#include "tls/handover.hpp"
#include "tls/record_layer.hpp"
#include "tls/session.hpp"
#include "tls/ticket_keys.hpp"
#include "tls/wipe.hpp"

using namespace ns::tls;
using namespace ns::tls::test;
using record_test::secret_of;

namespace {

using bytes_t = std::vector<std::uint8_t>;

bool contains(std::span<const std::byte> hay, std::span<const std::uint8_t> needle) {
  const auto* h = reinterpret_cast<const std::uint8_t*>(hay.data());
  return std::search(h, h + hay.size(), needle.begin(), needle.end()) != h + hay.size();
}

// Every wipe while it is installed: the bytes before, and whether they were zero after.
struct wipe_log {
  wipe_log() {
    std::lock_guard lock(mutex);
    cleared.clear();
    not_zeroed = 0;
    previous = test_hooks::set_wipe_observer(&observe);
  }
  ~wipe_log() { test_hooks::set_wipe_observer(previous); }

  // How many wipes cleared bytes that held @p secret.
  static long wiped(std::span<const std::uint8_t> secret) {
    std::lock_guard lock(mutex);
    return std::count_if(cleared.begin(), cleared.end(), [&](const bytes_t& b) {
      return std::search(b.begin(), b.end(), secret.begin(), secret.end()) != b.end();
    });
  }
  static int failures() {
    std::lock_guard lock(mutex);
    return not_zeroed;
  }

 private:
  static void observe(const void* p, std::size_t n, bool zeroed) {
    const auto* b = static_cast<const std::uint8_t*>(p);
    std::lock_guard lock(mutex);
    if (!zeroed) {
      cleared.emplace_back(b, b + n);
    } else if (std::any_of(b, b + n, [](std::uint8_t x) { return x != 0; })) {
      ++not_zeroed;
    }
  }
  static inline std::mutex mutex;
  static inline std::vector<bytes_t> cleared;
  static inline int not_zeroed = 0;
  test_hooks::wipe_observer previous = nullptr;
};

// Storage for one T whose bytes the test may read after T's destructor ran.
template <class T>
struct storage {
  alignas(T) std::byte bytes[sizeof(T)];
  std::span<const std::byte> view() const { return bytes; }
};

// The client's own key log (the client role stays with OpenSSL): the traffic secrets the
// server session must hold and wipe.
struct client_keylog {
  static void cb(const SSL*, const char* line) {
    const std::string l(line);
    using entry = std::pair<const char*, bytes_t*>;
    for (const auto& [label, out] :
         {entry{"CLIENT_TRAFFIC_SECRET_0 ", &client}, entry{"SERVER_TRAFFIC_SECRET_0 ", &server}}) {
      if (l.rfind(label, 0) != 0) continue;
      const std::string hex = l.substr(l.rfind(' ') + 1);
      out->clear();
      for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out->push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
      }
    }
  }
  static inline bytes_t client, server;
};

std::shared_ptr<const context> logging_client() {
  auto ctx = client_ctx();
  SSL_CTX_set_keylog_callback(ctx->native_handle(), &client_keylog::cb);
  return ctx;
}

}  // namespace

TEST(SecretWipe, TrafficSecretIsZeroedWhenItGoesAndWhenMovedFrom) {
  const traffic_secret probe = secret_of(200);
  storage<traffic_secret> st;
  auto* s = new (st.bytes) traffic_secret(secret_of(200));
  ASSERT_TRUE(contains(st.view(), probe.view()));
  traffic_secret moved(std::move(*s));
  EXPECT_EQ(s->size, 0u);
  EXPECT_FALSE(contains(st.view(), probe.view()));  // the move left no copy behind
  EXPECT_TRUE(std::equal(moved.view().begin(), moved.view().end(), probe.view().begin()));
  *s = std::move(moved);
  ASSERT_TRUE(contains(st.view(), probe.view()));
  s->~traffic_secret();
  EXPECT_FALSE(contains(st.view(), probe.view()));
}

TEST(SecretWipe, RecordProtectorWipesSecretKeyAndIv) {
  for (const suite su :
       {suite::aes_128_gcm_sha256, suite::aes_256_gcm_sha384, suite::chacha20_poly1305_sha256}) {
    const traffic_secret sec = secret_of(50, secret_size(su));
    std::array<std::uint8_t, 32> key{};
    std::array<std::uint8_t, iv_size> iv{};
    const std::size_t key_len = su == suite::aes_128_gcm_sha256 ? 16 : 32;
    ASSERT_TRUE(hkdf_expand_label(su, sec.view(), "key", {key.data(), key_len}));
    ASSERT_TRUE(hkdf_expand_label(su, sec.view(), "iv", iv));
    storage<record_protector> st;
    auto* p = new (st.bytes) record_protector(su, secret_of(50, secret_size(su)), true);
    // The probes are real: before destruction all three are there.
    ASSERT_TRUE(contains(st.view(), sec.view()));
    ASSERT_TRUE(contains(st.view(), {key.data(), key_len}));
    ASSERT_TRUE(contains(st.view(), iv));
    p->~record_protector();
    EXPECT_FALSE(contains(st.view(), sec.view()));
    EXPECT_FALSE(contains(st.view(), {key.data(), key_len}));
    EXPECT_FALSE(contains(st.view(), iv));
  }
}

TEST(SecretWipe, KeyUpdateLeavesNoOldSecretInTheProtector) {
  const traffic_secret sec = secret_of(60);
  storage<record_protector> st;
  auto* p = new (st.bytes) record_protector(suite::aes_128_gcm_sha256, secret_of(60), false);
  ASSERT_TRUE(p->update());
  EXPECT_FALSE(contains(st.view(), sec.view()));
  p->~record_protector();
}

TEST(SecretWipe, RecordLayerTakesTheSecretsOverWithoutCopiesLeft) {
  traffic_secret read = secret_of(70), write = secret_of(80);
  const traffic_secret r0 = secret_of(70), w0 = secret_of(80);
  storage<record_layer> st;
  auto* l =
      new (st.bytes) record_layer(suite::aes_128_gcm_sha256, std::move(read), std::move(write), 0);
  EXPECT_EQ(read.size, 0u);  // taken over, the caller's copies wiped
  EXPECT_EQ(write.size, 0u);
  EXPECT_TRUE(std::all_of(read.bytes.begin(), read.bytes.end(), [](auto b) { return b == 0; }));
  ASSERT_TRUE(contains(st.view(), r0.view()));
  ASSERT_TRUE(contains(st.view(), w0.view()));
  l->~record_layer();
  EXPECT_FALSE(contains(st.view(), r0.view()));
  EXPECT_FALSE(contains(st.view(), w0.view()));
}

TEST(SecretWipe, TicketKeysAreWiped) {
  storage<ticket_keys> st;
  auto* ring = new (st.bytes) ticket_keys();
  ticket_keys::key first = ring->current();
  ring->rotate();
  const ticket_keys::key second = ring->current();
  ASSERT_TRUE(contains(st.view(), first.aes));  // now the previous key
  ASSERT_TRUE(contains(st.view(), second.hmac));
  ring->rotate();  // the first key drops out of the ring: wiped, not just overwritten
  EXPECT_FALSE(contains(st.view(), first.aes));
  EXPECT_FALSE(contains(st.view(), first.hmac));
  ring->~ticket_keys();
  EXPECT_FALSE(contains(st.view(), second.aes));
  EXPECT_FALSE(contains(st.view(), second.hmac));
  // A copy handed out wipes itself too.
  storage<ticket_keys::key> kst;
  auto* k = new (kst.bytes) ticket_keys::key(std::move(first));
  EXPECT_TRUE(std::all_of(first.aes.begin(), first.aes.end(), [](auto b) { return b == 0; }));
  ASSERT_TRUE(contains(kst.view(), k->aes));
  const std::array<std::uint8_t, 32> aes = k->aes;
  k->~key();
  EXPECT_FALSE(contains(kst.view(), aes));
}

TEST(SecretWipe, HandshakeThatNeverFinishesWipesItsKeyLogSecrets) {
  wipe_log log;
  {
    session server(server_ctx());
    session client(logging_client(), {"localhost", {}, nullptr});
    client.handshake();  // ClientHello
    transfer(client, server);
    std::byte out[16];
    ASSERT_EQ(server.read(out).st, status::want_more);  // server flight: secrets logged
    transfer(server, client);
    ASSERT_EQ(client.handshake(), status::ok);  // the client has them now too
    // The server logged its own application secret when it sent its flight (the client's
    // comes when the client's Finished is read, which never happens here).
    ASSERT_EQ(client_keylog::server.size(), 32u);
    EXPECT_EQ(wipe_log::wiped(client_keylog::server), 0);
    // The client's Finished never reaches the server; the server session goes.
  }
  EXPECT_GE(wipe_log::wiped(client_keylog::server), 1);
  EXPECT_EQ(wipe_log::failures(), 0);
}

TEST(SecretWipe, HandedOverSessionWipesTheSecretsOnTheWayAndAtTheEnd) {
  wipe_log log;
  std::optional<session> server(std::in_place, server_ctx());
  {
    session client(logging_client(), {"localhost", {}, nullptr});
    mem_pipe p(client, *server);
    ASSERT_TRUE(p.pump());
  }
  ASSERT_TRUE(server->handed_over());
  // On the way: the key-log buffers were wiped as the secrets moved into the record layer.
  const long on_the_way = wipe_log::wiped(client_keylog::client);
  EXPECT_GE(on_the_way, 1);
  EXPECT_GE(wipe_log::wiped(client_keylog::server), 1);
  // At the end: the record layer's own copies (the read side still holds the client's).
  server.reset();
  EXPECT_GT(wipe_log::wiped(client_keylog::client), on_the_way);
  EXPECT_EQ(wipe_log::failures(), 0);
}

TEST(SecretWipe, RefusedHandOverWipesTheSecrets) {
  wipe_log log;
  const traffic_secret c0 = secret_of(11);
  traffic_secret c = secret_of(11), s = secret_of(12);
  const long before = wipe_log::wiped(c0.view());
  detail::handshake_end end;
  end.server = true;
  end.tls13 = true;
  end.cipher_code = 0x1304;  // CCM: not ours
  const detail::handover h = detail::hand_over(end, std::move(c), std::move(s));
  EXPECT_EQ(h.refusal, detail::handover_refusal::unknown_suite);
  EXPECT_EQ(c.size, 0u);
  // Once as it moved into the call, once when the call's copy went.
  EXPECT_EQ(wipe_log::wiped(c0.view()), before + 2);
  EXPECT_EQ(wipe_log::failures(), 0);
}
