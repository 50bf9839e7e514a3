#include "client/operators.h"

#include "recorder/hash.h"

namespace rrto::client {

Op op_of(const proto::Launch& call, const KernelDef& kernel) {
  return Op::launch(kernel, {call.grid[0], call.grid[1], call.grid[2]}, {call.block[0], call.block[1], call.block[2]},
                    call.shared_mem, call.stream, call.params);
}

Op op_of(const proto::LaunchEx& call, const KernelDef& kernel) {
  Op op = Op::launch(kernel, {call.grid[0], call.grid[1], call.grid[2]}, {call.block[0], call.block[1], call.block[2]},
                     call.shared_mem, call.stream, call.params);
  proto::LaunchAttributes attributes = call.attributes;
  uint64_t hash = 0x51afd7ed558ccd1dull;
  attributes.fields([&hash](auto value) { hash = hash_mix(hash ^ static_cast<uint64_t>(value), 0xc4ceb9fe1a85ec53ull); });
  op.value = hash | 1;  // never 0, which is a plain launch's
  op.seal();
  return op;
}

Op op_of(const proto::MemcpyHtoD& call, const void* host_src, bool async) {
  return Op::memcpy_htod(call.dst, reinterpret_cast<uintptr_t>(host_src), call.size, call.stream, async);
}

Op op_of(const proto::MemcpyDtoH& call, const void* host_dst, bool async) {
  return Op::memcpy_dtoh(reinterpret_cast<uintptr_t>(host_dst), call.src, call.size, call.stream, async);
}

Op op_of(const proto::MemcpyDtoD& call, bool async) {
  return Op::memcpy_dtod(call.dst, call.src, call.size, call.stream, async);
}

Op op_of(const proto::Memset& call, bool async) {
  return Op::memset_d(call.dst, call.value, static_cast<uint8_t>(call.element_size), call.count, call.stream, async);
}

Op op_of(const proto::Memcpy2DHtoD& call, const void* host_src, uint64_t host_pitch, bool async) {
  return Op::memcpy_2d(OpKind::MemcpyHtoD, call.dst, call.dst_pitch, reinterpret_cast<uintptr_t>(host_src), host_pitch,
                       call.width, call.height, call.stream, async);
}

Op op_of(const proto::Memcpy2DDtoH& call, const void* host_dst, uint64_t host_pitch, bool async) {
  return Op::memcpy_2d(OpKind::MemcpyDtoH, reinterpret_cast<uintptr_t>(host_dst), host_pitch, call.src, call.src_pitch,
                       call.width, call.height, call.stream, async);
}

Op op_of(const proto::Memcpy2DDtoD& call, bool async) {
  return Op::memcpy_2d(OpKind::MemcpyDtoD, call.dst, call.dst_pitch, call.src, call.src_pitch, call.width, call.height,
                       call.stream, async);
}

Op op_of(const proto::Memset2D& call, bool async) {
  return Op::memset_2d(call.dst, call.pitch, call.value, static_cast<uint8_t>(call.element_size), call.width,
                       call.height, call.stream, async);
}

Op op_of(const proto::EventRecord& call) { return Op::event_record(call.event, call.stream); }

Op op_of(const proto::StreamWaitEvent& call) { return Op::stream_wait_event(call.stream, call.event, call.flags); }

Op op_of(const proto::StreamSynchronize& call) { return Op::stream_synchronize(call.stream); }

Op op_of(const proto::CtxSynchronize&) { return Op::context_synchronize(); }

}  // namespace rrto::client
