// What RRTO puts on the wire around each message, and the checks every
// incoming header passes before anything else looks at it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "common/status.h"
#include "transport/transport.h"

namespace rrto::transport::wire {

// The one UCX active-message id that carries every RRTO message.
inline constexpr uint16_t kAmId = 7;

// WireHeader.flags bits.
// The metadata did not fit in the UCX AM header: it travels as the first
// meta_length bytes of the UCX data, before the bulk.
inline constexpr uint32_t kFlagMetaInData = 1u << 0;
// Transport-level connection handshake (never shown to the Handler).
inline constexpr uint32_t kFlagHandshake = 1u << 1;
// The server is still working on the peer's request (sent while its reply is
// overdue, so that the client's reply timeout waits for long work; never shown
// to the Handler).
inline constexpr uint32_t kFlagHeartbeat = 1u << 2;
inline constexpr uint32_t kKnownFlags = kFlagMetaInData | kFlagHandshake | kFlagHeartbeat;

WireHeader make_header(uint16_t opcode, uint32_t meta_length, uint64_t bulk_length, uint32_t flags);

// The connection handshake, both ways. Static: UCX 1.13 reads an AM header
// until the send completes, and handshakes are not waited for.
const WireHeader& handshake_header();
// A heartbeat, server to client; static for the same reason.
const WireHeader& heartbeat_header();

// A header that passed validate(), with the metadata located when it came in
// the AM header.
struct Incoming {
  WireHeader header{};
  // Valid only when !(header.flags & kFlagMetaInData): points into the AM header.
  std::span<const uint8_t> inline_meta;
  bool meta_in_data() const { return header.flags & kFlagMetaInData; }
  // Bytes of UCX data this message must carry.
  uint64_t data_length() const {
    return header.bulk_length + (meta_in_data() ? header.meta_length : 0);
  }
};

// Checks magic, version, flags and that the lengths are within limits and agree
// with what UCX delivered (the AM header length and the data length). On
// failure returns ProtocolError and sets `why` to a short reason for the log.
Status validate(const void* am_header, size_t am_header_length, size_t data_length, Incoming& out,
                std::string& why);

}  // namespace rrto::transport::wire
