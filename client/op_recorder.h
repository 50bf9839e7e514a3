// The client's view of the operator stream: every launch, copy, memset,
// event operation and synchronisation, as recorder Ops. With RRTO_TRACE set
// they are written to a trace file for offline analysis (rrto-trace).
#pragma once

#include <string>

#include "recorder/kernel.h"
#include "recorder/op.h"
#include "recorder/trace_writer.h"

namespace rrto::client {

class OpRecorder {
 public:
  // Starts writing a trace to `path`; false (logged) if it cannot.
  bool open_trace(const std::string& path);
  void close_trace();

  bool active() const { return tracing_; }
  // Called with the client lock held.
  void record(const Op& op) {
    if (tracing_) write(op);
  }

  KernelTable& kernels() { return kernels_; }

 private:
  void write(const Op& op);

  KernelTable kernels_;
  TraceWriter trace_;
  bool tracing_ = false;
};

}  // namespace rrto::client
