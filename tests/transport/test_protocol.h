// Opcodes understood by transport_test_server.
#pragma once

#include <cstdint>

namespace rrto::transport::test {

// Echo: reply meta = [landed flag] + request meta, reply bulk = request bulk.
// The server gives bulk_destination a buffer of its own; the flag is 1 when
// Message::bulk pointed at that buffer (or there was no bulk).
inline constexpr uint16_t kOpEcho = 1;
// Echo, but bulk_destination returns nullptr (transport-owned buffer).
inline constexpr uint16_t kOpEchoOwnBuffer = 2;
// Never answered.
inline constexpr uint16_t kOpNoReply = 3;
// Request meta: u64 n. Reply: no meta, n bulk bytes (byte i = i * 7).
inline constexpr uint16_t kOpSendBulk = 4;
// Reply meta: the server's transport_name for this peer.
inline constexpr uint16_t kOpTransportName = 5;
// Reply meta: u64 connects, u64 disconnects seen by the handler so far.
inline constexpr uint16_t kOpStats = 6;
// Request meta: u32 milliseconds. An empty reply that much later, sent from
// the serving thread (Server::post) while the serving loop goes on.
inline constexpr uint16_t kOpLateReply = 7;

}  // namespace rrto::transport::test
