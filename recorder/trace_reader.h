// Reads a trace file (format in trace_format.h) into a Trace. Anything that
// is not a complete, well-formed trace is rejected with an error status and
// a message naming the byte offset and what was wrong; nothing in the file
// can make the reader read out of bounds or allocate without limit.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/status.h"
#include "recorder/trace.h"

namespace rrto {

class TraceReader {
 public:
  // IoError when the file cannot be read, ProtocolError when it is not a
  // valid trace. On failure `out` holds what was read before the fault.
  Status read_file(const std::string& path, Trace& out);
  Status read_bytes(std::span<const uint8_t> bytes, Trace& out);

  // "<offset N: >what was wrong", after a call returned an error.
  const std::string& error() const { return error_; }

 private:
  Status fail(Status s, size_t offset, std::string what);
  Status read_kernel(std::span<const uint8_t> payload, size_t offset, Trace& out);
  Status read_op(std::span<const uint8_t> payload, size_t offset, Trace& out);

  std::string error_;
  uint32_t kernels_ = 0;
};

}  // namespace rrto
