// MD2 (RFC 1319), the hash under cudart's integrity check. Not for security:
// the driver and cudart use it as a handshake, so we must compute it exactly.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace rrto::client {

class Md2 {
 public:
  using Digest = std::array<uint8_t, 16>;

  void update(std::span<const uint8_t> bytes);
  void update(uint8_t byte);
  // Pads, appends the checksum and returns the digest; the object is spent.
  Digest finish();

 private:
  void compress();

  std::array<uint8_t, 48> state_{};  // X: hash, current block, their xor
  std::array<uint8_t, 16> checksum_{};
  uint8_t last_checksum_byte_ = 0;  // L
  uint8_t block_used_ = 0;          // bytes of the current block filled
};

// One call: MD2 of `bytes`.
Md2::Digest md2(std::span<const uint8_t> bytes);

// HMAC (RFC 2104) over MD2, whose block is 16 bytes; `key` is one block.
class HmacMd2 {
 public:
  explicit HmacMd2(const std::array<uint8_t, 16>& key);
  void update(std::span<const uint8_t> bytes) { inner_.update(bytes); }
  Md2::Digest finish();

 private:
  std::array<uint8_t, 16> key_;
  Md2 inner_;
};

}  // namespace rrto::client
