// Turns a received batch request into the list of calls to run, checking its
// whole shape before anything runs: every call known and fully decoded, every
// bulk range inside the received bulk, MemcpyDtoH only as the last call. A
// batch that fails here is malformed (the session is closed); value errors
// (an unknown handle, a range outside the session's memory) are found later,
// when the call runs, and only fail that call.
#pragma once

#include <span>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"
#include "protocol/calls.h"

namespace rrto::server {

using AnyCall =
    std::variant<proto::Hello, proto::MemAlloc, proto::MemFree, proto::MemGetInfo, proto::MemcpyHtoD, proto::MemcpyDtoH,
                 proto::MemcpyDtoD, proto::Memset, proto::ModuleLoad, proto::ModuleUnload, proto::ModuleGetFunction,
                 proto::ModuleGetGlobal, proto::FuncGetAttribute, proto::Launch, proto::StreamCreate,
                 proto::StreamDestroy, proto::StreamSynchronize, proto::StreamQuery, proto::StreamWaitEvent,
                 proto::EventCreate, proto::EventDestroy, proto::EventRecord, proto::EventSynchronize,
                 proto::EventQuery, proto::EventElapsedTime, proto::CtxSynchronize, proto::TemplateRegister,
                 proto::TemplateDrop, proto::ReplaySegment>;

struct DecodedCall {
  AnyCall call;
  // MemcpyHtoD's payload or ModuleLoad's image: its range of the bulk;
  // ReplaySegment's inputs: the bulk from its input offset on.
  std::span<const uint8_t> bulk;
};

// On failure returns ProtocolError and says why; `calls` then holds nothing useful.
// The calls point into `meta` and `bulk`, which must outlive them.
Status decode_batch(std::span<const uint8_t> meta, std::span<const uint8_t> bulk, std::vector<DecodedCall>& calls,
                    std::string& why);

// Decodes the operator calls of a template (TemplateRegister::calls). Only
// operators are allowed; their bulk ranges are left empty.
Status decode_template(std::span<const uint8_t> calls_meta, std::vector<DecodedCall>& calls, std::string& why);

}  // namespace rrto::server
