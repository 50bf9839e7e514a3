// Status codes used inside RRTO. CUresult appears only at the CUDA API edge.
#pragma once

#include <cstdint>

namespace rrto {

enum class Status : int32_t {
  Ok = 0,
  InvalidArgument,   // a caller passed something malformed
  NotFound,          // a name, handle or address that does not exist
  NotSupported,      // recognised but not implemented
  OutOfMemory,
  OutOfRange,        // an address or size past the end of what is owned
  ProtocolError,     // malformed, truncated or unexpected message
  Unreachable,       // the peer could not be contacted
  ConnectionLost,    // the peer went away mid-conversation
  Timeout,
  IoError,           // a file could not be read or written
  InternalError,
};

const char* status_name(Status s);

inline bool ok(Status s) { return s == Status::Ok; }

}  // namespace rrto
