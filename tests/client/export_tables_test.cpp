// What the client answers through cudart's export tables: MD2 and the
// integrity check built on it, and context-local storage.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <string_view>
#include <thread>

#include "client/export_tables/context_storage.h"
#include "client/export_tables/integrity_check.h"
#include "client/export_tables/md2.h"

using namespace rrto::client;

namespace {

std::string hex(const std::array<uint8_t, 16>& bytes) {
  std::string s;
  for (const uint8_t b : bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    s += kDigits[b >> 4];
    s += kDigits[b & 15];
  }
  return s;
}

std::string md2_hex(std::string_view text) {
  return hex(md2({reinterpret_cast<const uint8_t*>(text.data()), text.size()}));
}

std::array<uint8_t, 16> from_hex(std::string_view s) {
  std::array<uint8_t, 16> out{};
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<uint8_t>(std::stoi(std::string(s.substr(2 * i, 2)), nullptr, 16));
  return out;
}

// Inputs of one start-up of the static-cudart cnn_runtime (cudart 13.0.88),
// which accepted the answer below; a flipped bit in it fails cudaSetDevice
// with cudaErrorSoftwareValidityNotEstablished.
IntegrityQuery accepted_query() {
  return {.driver_version = 13000,
          .runtime_version = 13002,
          .process_id = 30970,
          .thread_id = 0xa1f0d000,
          .cudart_table = reinterpret_cast<const void*>(0x7f6ea1effbe0),
          .integrity_table = reinterpret_cast<const void*>(0x7f6ea1efda70),
          .integrity_function = reinterpret_cast<const void*>(0x7f6ea1e7a2b0),
          .unix_seconds = 1795668747};
}

IntegrityDevice accepted_device() {
  IntegrityDevice d{};
  const auto uuid = from_hex("7ca753d7f2d15c6fa592d81291b95ab3");
  std::memcpy(d.uuid.bytes, uuid.data(), uuid.size());
  d.pci_domain = 0;
  d.pci_bus = 1;
  d.pci_device = 0;
  return d;
}

}  // namespace

TEST_CASE("MD2 gives RFC 1319's test vectors") {
  CHECK(md2_hex("") == "8350e5a3e24c153df2275c9f80692773");
  CHECK(md2_hex("a") == "32ec01ec4a6dac72c0ab96fb34c0b5d1");
  CHECK(md2_hex("abc") == "da853b0d3f88d99b30283a69e6ded6bb");
  CHECK(md2_hex("message digest") == "ab4f496bfb2a530b219ff33031fe06b0");
  CHECK(md2_hex("abcdefghijklmnopqrstuvwxyz") == "4e8ddff3650292ab5a4108c3aa47940b");
  CHECK(md2_hex("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") ==
        "da33def2a42df13975352846c30338cd");
  CHECK(md2_hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890") ==
        "d5976f79d83d3a0dc9806c3c66f3efd8");
}

TEST_CASE("MD2 fed in pieces equals MD2 of the whole") {
  const std::string_view text = "The quick brown fox jumps over the lazy dog, 16 bytes at a time or not";
  Md2 h;
  for (size_t i = 0; i < text.size(); i += 7) {
    const std::string_view piece = text.substr(i, 7);
    h.update({reinterpret_cast<const uint8_t*>(piece.data()), piece.size()});
  }
  CHECK(hex(h.finish()) == md2_hex(text));
}

TEST_CASE("HMAC-MD2 is MD2(key^opad, MD2(key^ipad, message))") {
  std::array<uint8_t, 16> key;
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(3 * i + 1);
  const std::string_view message = "what cudart and the driver both know";
  HmacMd2 hmac(key);
  hmac.update({reinterpret_cast<const uint8_t*>(message.data()), message.size()});

  Md2 inner;
  for (const uint8_t k : key) inner.update(static_cast<uint8_t>(k ^ 0x36));
  inner.update({reinterpret_cast<const uint8_t*>(message.data()), message.size()});
  const auto inner_digest = inner.finish();
  Md2 outer;
  for (const uint8_t k : key) outer.update(static_cast<uint8_t>(k ^ 0x5c));
  outer.update(inner_digest);
  CHECK(hex(hmac.finish()) == hex(outer.finish()));
}

TEST_CASE("the integrity answer cudart 13.0 accepted") {
  const IntegrityDevice device = accepted_device();
  CHECK(hex(integrity_answer(accepted_query(), {&device, 1})) == "f5d2d03d53bd39e234717e680ebcf419");
}

TEST_CASE("runtime versions ending in 0 and 1 get fixed answers") {
  const IntegrityDevice device = accepted_device();
  IntegrityQuery q = accepted_query();
  q.runtime_version = 13000;
  CHECK(hex(integrity_answer(q, {&device, 1})) == "5c67cb031c184133e8d14c1faa83d38e");
  q.runtime_version = 13001;
  CHECK(hex(integrity_answer(q, {&device, 1})) == "5c67cb031c184118e8d14c1faa83d38e");
  q.process_id = 1;  // nothing else matters for them
  CHECK(hex(integrity_answer(q, {&device, 1})) == "5c67cb031c184118e8d14c1faa83d38e");
}

TEST_CASE("every input of the integrity answer changes it") {
  const IntegrityDevice device = accepted_device();
  const std::string reference = hex(integrity_answer(accepted_query(), {&device, 1}));
  auto changed = [&](auto edit) {
    IntegrityQuery q = accepted_query();
    IntegrityDevice d = device;
    edit(q, d);
    return hex(integrity_answer(q, {&d, 1})) != reference;
  };
  CHECK(changed([](IntegrityQuery& q, IntegrityDevice&) { q.driver_version = 12080; }));
  CHECK(changed([](IntegrityQuery& q, IntegrityDevice&) { q.runtime_version = 13012; }));
  CHECK(changed([](IntegrityQuery& q, IntegrityDevice&) { q.process_id += 1; }));
  CHECK(changed([](IntegrityQuery& q, IntegrityDevice&) { q.thread_id += 1; }));
  CHECK(changed([](IntegrityQuery& q, IntegrityDevice&) { q.cudart_table = nullptr; }));
  CHECK(changed([](IntegrityQuery& q, IntegrityDevice&) { q.integrity_table = nullptr; }));
  CHECK(changed([](IntegrityQuery& q, IntegrityDevice&) { q.integrity_function = nullptr; }));
  CHECK(changed([](IntegrityQuery& q, IntegrityDevice&) { q.unix_seconds += 1; }));
  CHECK(changed([](IntegrityQuery&, IntegrityDevice& d) { d.uuid.bytes[15] ^= 1; }));
  CHECK(changed([](IntegrityQuery&, IntegrityDevice& d) { d.pci_domain = 1; }));
  CHECK(changed([](IntegrityQuery&, IntegrityDevice& d) { d.pci_bus = 2; }));
  CHECK(changed([](IntegrityQuery&, IntegrityDevice& d) { d.pci_device = 1; }));
  CHECK(hex(integrity_answer(accepted_query(), {})) != reference);
}

namespace {

struct Destroyed {
  CUcontext context = nullptr;
  void* key = nullptr;
  void* value = nullptr;
  int calls = 0;
};
Destroyed g_destroyed;

void record_destructor(CUcontext ctx, void* key, void* value) {
  g_destroyed.context = ctx;
  g_destroyed.key = key;
  g_destroyed.value = value;
  ++g_destroyed.calls;
}

void* ptr(uintptr_t v) { return reinterpret_cast<void*>(v); }

}  // namespace

TEST_CASE("context-local storage keeps values per context and key") {
  ContextStorage storage;
  void* value = nullptr;
  CHECK_FALSE(storage.get(0x11, ptr(1), value));
  storage.put(0x11, ptr(1), ptr(100), nullptr);
  storage.put(0x21, ptr(1), ptr(200), nullptr);
  storage.put(0x11, ptr(2), ptr(300), nullptr);
  REQUIRE(storage.get(0x11, ptr(1), value));
  CHECK(value == ptr(100));
  REQUIRE(storage.get(0x21, ptr(1), value));
  CHECK(value == ptr(200));
  REQUIRE(storage.get(0x11, ptr(2), value));
  CHECK(value == ptr(300));

  storage.put(0x11, ptr(1), ptr(101), nullptr);  // replaces
  REQUIRE(storage.get(0x11, ptr(1), value));
  CHECK(value == ptr(101));

  // A removal is seen at once by the thread that looked the value up before.
  CHECK(storage.remove(0x11, ptr(1)));
  CHECK_FALSE(storage.get(0x11, ptr(1), value));
  CHECK_FALSE(storage.remove(0x11, ptr(1)));
}

TEST_CASE("a change on one thread is seen by another that cached the old value") {
  ContextStorage storage;
  storage.put(0x31, ptr(7), ptr(1), nullptr);
  void* value = nullptr;
  REQUIRE(storage.get(0x31, ptr(7), value));
  std::thread([&] { storage.put(0x31, ptr(7), ptr(2), nullptr); }).join();
  REQUIRE(storage.get(0x31, ptr(7), value));
  CHECK(value == ptr(2));
}

TEST_CASE("destroying a context runs its destructors and drops its entries") {
  ContextStorage storage;
  g_destroyed = {};
  storage.put(0x41, ptr(5), ptr(500), record_destructor);
  storage.put(0x51, ptr(5), ptr(600), record_destructor);
  void* value = nullptr;
  REQUIRE(storage.get(0x41, ptr(5), value));
  storage.destroy(0x41);
  CHECK(g_destroyed.calls == 1);
  CHECK(g_destroyed.context == reinterpret_cast<CUcontext>(0x41));
  CHECK(g_destroyed.key == ptr(5));
  CHECK(g_destroyed.value == ptr(500));
  CHECK_FALSE(storage.get(0x41, ptr(5), value));
  REQUIRE(storage.get(0x51, ptr(5), value));  // another context's entry stays
  CHECK(value == ptr(600));
  storage.destroy(0x41);  // nothing left to destroy
  CHECK(g_destroyed.calls == 1);
}
