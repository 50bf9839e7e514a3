#include "client/export_tables/integrity_check.h"

#include <cstring>

#include "client/export_tables/md2.h"

namespace rrto::client {
namespace {

constexpr std::array<uint8_t, 16> kKey = {0x14, 0x6a, 0xdd, 0xae, 0x53, 0xa9, 0xa7, 0x52,
                                          0xaa, 0x08, 0x41, 0x36, 0x0b, 0xf5, 0x5a, 0x9f};

// The answers for runtime versions x0 and x1, as two native-endian words.
constexpr uint64_t kAnswerVersion0[2] = {0x3341181c03cb675cull, 0x8ed383aa1f4cd1e8ull};
constexpr uint64_t kAnswerVersion1[2] = {0x1841181c03cb675cull, 0x8ed383aa1f4cd1e8ull};

std::array<uint8_t, 16> constant_answer(const uint64_t (&words)[2]) {
  std::array<uint8_t, 16> out;
  std::memcpy(out.data(), words, out.size());
  return out;
}

// Each field in native byte order, in declaration order, no padding.
template <typename T>
void hash_field(HmacMd2& h, const T& value) {
  uint8_t bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  h.update(bytes);
}

}  // namespace

std::array<uint8_t, 16> integrity_answer(const IntegrityQuery& q, std::span<const IntegrityDevice> devices) {
  switch (q.runtime_version % 10) {
    case 0: return constant_answer(kAnswerVersion0);
    case 1: return constant_answer(kAnswerVersion1);
    default: break;
  }
  HmacMd2 h(kKey);
  hash_field(h, q.driver_version);
  hash_field(h, q.runtime_version);
  hash_field(h, q.process_id);
  hash_field(h, q.thread_id);
  hash_field(h, q.cudart_table);
  hash_field(h, q.integrity_table);
  hash_field(h, q.integrity_function);
  hash_field(h, q.unix_seconds);
  for (const IntegrityDevice& d : devices) {
    hash_field(h, d.uuid.bytes);
    hash_field(h, d.pci_domain);
    hash_field(h, d.pci_bus);
    hash_field(h, d.pci_device);
  }
  return h.finish();
}

}  // namespace rrto::client
