// The raw UCX tests' messages: one ucp active message each, this struct as
// its user header and the payload as its data. No RRTO wire header and no
// RRTO protocol: the floor under rpc_lat and memcpy_bw.
#pragma once

#include <cstdint>

namespace rrto::perf::raw {

// Not RRTO's (transport/wire.h): a raw connection is a UCX context of its own.
inline constexpr unsigned kAmId = 11;

enum class Op : uint32_t {
  Info = 1,  // client -> server: "where is your rrto-server?"; the answer's data is text
  Echo,      // the server answers with a message of the same size
  Sink,      // no answer
  SinkAck,   // answered with an empty message
};

struct Header {
  uint32_t op = 0;
  uint32_t reserved = 0;
  uint64_t value = 0;  // Echo: the size to answer with
};

}  // namespace rrto::perf::raw
