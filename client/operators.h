// The recorder's view of each operator call. An intercepted operator is
// captured once, as the protocol call the queue sends; its Op (what the
// recorder writes and the matcher compares) is derived from that same value
// here, so the two can never disagree.
#pragma once

#include "protocol/calls.h"
#include "recorder/op.h"

namespace rrto::client {

Op op_of(const proto::Launch& call, const KernelDef& kernel);
// Its attributes are part of its structure: a launch whose attributes
// changed is not replayed as the one before.
Op op_of(const proto::LaunchEx& call, const KernelDef& kernel);
// Copies name their host side only as a reference; `async` says whether the
// program called the *Async form.
Op op_of(const proto::MemcpyHtoD& call, const void* host_src, bool async);
Op op_of(const proto::MemcpyDtoH& call, const void* host_dst, bool async);
Op op_of(const proto::MemcpyDtoD& call, bool async);
Op op_of(const proto::Memset& call, bool async);
// A host side's rows are `host_pitch` bytes apart in the program's memory.
Op op_of(const proto::Memcpy2DHtoD& call, const void* host_src, uint64_t host_pitch, bool async);
Op op_of(const proto::Memcpy2DDtoH& call, const void* host_dst, uint64_t host_pitch, bool async);
Op op_of(const proto::Memcpy2DDtoD& call, bool async);
Op op_of(const proto::Memset2D& call, bool async);
Op op_of(const proto::EventRecord& call);
Op op_of(const proto::StreamWaitEvent& call);
Op op_of(const proto::StreamSynchronize& call);
Op op_of(const proto::CtxSynchronize& call);

}  // namespace rrto::client
