#include "common/status.h"

namespace rrto {

const char* status_name(Status s) {
  switch (s) {
    case Status::Ok: return "ok";
    case Status::InvalidArgument: return "invalid argument";
    case Status::NotFound: return "not found";
    case Status::NotSupported: return "not supported";
    case Status::OutOfMemory: return "out of memory";
    case Status::OutOfRange: return "out of range";
    case Status::ProtocolError: return "protocol error";
    case Status::Unreachable: return "unreachable";
    case Status::ConnectionLost: return "connection lost";
    case Status::Timeout: return "timeout";
    case Status::IoError: return "i/o error";
    case Status::InternalError: return "internal error";
  }
  return "unknown status";
}

}  // namespace rrto
