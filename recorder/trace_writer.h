// Writes an op stream to a trace file (format in trace_format.h). Records are
// buffered and written in large blocks: no system call per op. Not
// thread-safe: callers that record from several threads serialise the calls.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "recorder/op.h"

namespace rrto {

class TraceWriter {
 public:
  TraceWriter() = default;
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  // Creates or truncates `path` and writes the header.
  Status open(const std::string& path);
  // Appends one op; the first launch of a kernel also writes its definition.
  // All kernels must come from one KernelTable (ids are the file's ids).
  Status write(const Op& op);
  Status flush();
  // Writes the end record and closes the file. Also done by the destructor;
  // a second call does nothing.
  Status close();

  bool is_open() const { return fd_ >= 0; }
  uint64_t ops_written() const { return ops_; }
  // What went wrong, after a call returned an error.
  const std::string& error() const { return error_; }

 private:
  size_t begin_record(uint8_t tag);
  void end_record(size_t start);
  Status define_kernel(const KernelDef& kernel);
  Status write_out();
  Status fail(Status s, std::string message);

  int fd_ = -1;
  std::string path_;
  std::vector<uint8_t> buf_;
  std::vector<const KernelDef*> defined_;  // index = kernel id
  uint64_t ops_ = 0;
  uint32_t kernels_ = 0;
  Status sticky_ = Status::Ok;  // the first failure; later calls repeat it
  std::string error_;
};

}  // namespace rrto
