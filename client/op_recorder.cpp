#include "client/op_recorder.h"

#include "common/log.h"

namespace rrto::client {

bool OpRecorder::open_trace(const std::string& path) {
  if (const Status s = trace_.open(path); !ok(s)) {
    RRTO_ERROR("client", "cannot write the trace {}: {}", path, trace_.error());
    return false;
  }
  tracing_ = true;
  return true;
}

void OpRecorder::close_trace() {
  if (!tracing_) return;
  tracing_ = false;
  if (!ok(trace_.close())) RRTO_ERROR("client", "trace incomplete: {}", trace_.error());
}

void OpRecorder::write(const Op& op) {
  if (!ok(trace_.write(op))) {
    RRTO_ERROR("client", "stopped tracing: {}", trace_.error());
    tracing_ = false;
  }
}

}  // namespace rrto::client
