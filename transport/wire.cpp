#include "transport/wire.h"

#include <fmt/format.h>

#include <cstring>

namespace rrto::transport::wire {

WireHeader make_header(uint16_t opcode, uint32_t meta_length, uint64_t bulk_length, uint32_t flags) {
  WireHeader h{};
  h.magic = kWireMagic;
  h.version = kWireVersion;
  h.opcode = opcode;
  h.meta_length = meta_length;
  h.flags = flags;
  h.bulk_length = bulk_length;
  return h;
}

const WireHeader& handshake_header() {
  static const WireHeader h = make_header(0, 0, 0, kFlagHandshake);
  return h;
}

const WireHeader& heartbeat_header() {
  static const WireHeader h = make_header(0, 0, 0, kFlagHeartbeat);
  return h;
}

Status validate(const void* am_header, size_t am_header_length, size_t data_length, Incoming& out,
                std::string& why) {
  if (am_header_length < sizeof(WireHeader)) {
    why = fmt::format("header of {} bytes is shorter than the {}-byte wire header", am_header_length,
                      sizeof(WireHeader));
    return Status::ProtocolError;
  }
  WireHeader h;
  std::memcpy(&h, am_header, sizeof(h));
  if (h.magic != kWireMagic) {
    why = fmt::format("bad magic {:#010x}", static_cast<uint64_t>(h.magic));
    return Status::ProtocolError;
  }
  if (h.version != kWireVersion) {
    why = fmt::format("unsupported wire version {} (expected {})", static_cast<unsigned>(h.version), kWireVersion);
    return Status::ProtocolError;
  }
  if (h.flags & ~kKnownFlags) {
    why = fmt::format("unknown flags {:#x}", static_cast<uint64_t>(h.flags));
    return Status::ProtocolError;
  }
  if (h.meta_length > kMaxMetaLength) {
    why = fmt::format("metadata length {} exceeds the limit {}", static_cast<uint64_t>(h.meta_length), kMaxMetaLength);
    return Status::ProtocolError;
  }
  if (h.bulk_length > kMaxBulkLength) {
    why = fmt::format("bulk length {} exceeds the limit {}", static_cast<uint64_t>(h.bulk_length), kMaxBulkLength);
    return Status::ProtocolError;
  }
  const bool meta_in_data = h.flags & kFlagMetaInData;
  const size_t expected_header = sizeof(WireHeader) + (meta_in_data ? 0 : h.meta_length);
  if (am_header_length != expected_header) {
    why = fmt::format("header length {} does not match the {} bytes it declares", am_header_length,
                      expected_header);
    return Status::ProtocolError;
  }
  out.header = h;
  const uint64_t expected_data = out.data_length();
  if (data_length != expected_data) {
    why = fmt::format("carries {} data bytes but declares {}", data_length, expected_data);
    return Status::ProtocolError;
  }
  out.inline_meta = meta_in_data ? std::span<const uint8_t>{}
                                 : std::span<const uint8_t>(
                                       static_cast<const uint8_t*>(am_header) + sizeof(WireHeader),
                                       h.meta_length);
  return Status::Ok;
}

}  // namespace rrto::transport::wire
