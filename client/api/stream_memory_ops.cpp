// Stream memory operations (cuStreamWriteValue*, cuStreamWaitValue*,
// cuStreamBatchMemOp). A write is a memset in stream order: a 32-bit one is
// exactly a one-element 32-bit memset; a 64-bit one is one memset of two
// equal halves, or two of one element each, low half first (not one store:
// a wait of another stream on the cuda backend may see the low half alone).
// A wait is answered here: once all work queued before it has run, on every
// stream, the word is read back and the condition checked. A wait it
// satisfies passes at once, as on a GPU; one it does not would wait for work
// the program has not queued yet, which nothing here can run past, so it is
// refused with CUDA_ERROR_NOT_SUPPORTED (logged once) rather than hang.

#include "client/api/api.h"

using namespace rrto::client;

namespace {

CUresult write_value(Client& c, uint64_t stream, CUdeviceptr addr, uint64_t value, unsigned size, unsigned flags) {
  if (flags & ~static_cast<unsigned>(CU_STREAM_WRITE_VALUE_NO_MEMORY_BARRIER) || addr % size)
    return CUDA_ERROR_INVALID_VALUE;
  const auto low = static_cast<uint32_t>(value), high = static_cast<uint32_t>(value >> 32);
  if (size == 4 || low == high) return memset_device(c, addr, low, 4, size / 4, stream, true);
  if (const CUresult r = memset_device(c, addr, low, 4, 1, stream, true)) return r;
  return memset_device(c, addr + 4, high, 4, 1, stream, true);
}

bool satisfied(uint64_t current, uint64_t value, unsigned size, unsigned condition) {
  if (size == 4) {
    current = static_cast<uint32_t>(current);
    value = static_cast<uint32_t>(value);
  }
  const uint64_t mask = size == 4 ? 0xffffffffull : ~0ull;
  switch (condition) {
    case CU_STREAM_WAIT_VALUE_GEQ:
      return size == 4 ? static_cast<int32_t>(static_cast<uint32_t>(current - value)) >= 0
                       : static_cast<int64_t>(current - value) >= 0;
    case CU_STREAM_WAIT_VALUE_EQ: return current == value;
    case CU_STREAM_WAIT_VALUE_AND: return (current & value) != 0;
    default: return (~(current | value) & mask) != 0;  // NOR
  }
}

CUresult wait_value(Client& c, uint64_t stream, CUdeviceptr addr, uint64_t value, unsigned size, unsigned flags) {
  if (flags & CU_STREAM_WAIT_VALUE_FLUSH) RRTO_NOT_SUPPORTED(cuStreamWaitValue, "CU_STREAM_WAIT_VALUE_FLUSH");
  const unsigned condition = flags;
  if (condition > CU_STREAM_WAIT_VALUE_NOR || addr % size) return CUDA_ERROR_INVALID_VALUE;
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  {
    auto state = c.lock();
    if (!state->on_device(addr, size)) return CUDA_ERROR_INVALID_VALUE;
    // Whatever may satisfy the wait runs first.
    if (const CUresult r = synchronize_context(*state)) return r;
  }
  uint64_t current = 0;
  if (const CUresult r = copy_to_host(c, &current, addr, size, stream, true)) return r;
  if (satisfied(current, value, size, condition)) return CUDA_SUCCESS;
  RRTO_NOT_SUPPORTED(cuStreamWaitValue, "a wait that the work queued before it does not satisfy");
}

CUresult batch_op(Client& c, uint64_t stream, const CUstreamBatchMemOpParams& p) {
  switch (p.operation) {
    case CU_STREAM_MEM_OP_WAIT_VALUE_32: return wait_value(c, stream, p.waitValue.address, p.waitValue.value, 4, p.waitValue.flags);
    case CU_STREAM_MEM_OP_WAIT_VALUE_64:
      return wait_value(c, stream, p.waitValue.address, p.waitValue.value64, 8, p.waitValue.flags);
    case CU_STREAM_MEM_OP_WRITE_VALUE_32:
      return write_value(c, stream, p.writeValue.address, p.writeValue.value, 4, p.writeValue.flags);
    case CU_STREAM_MEM_OP_WRITE_VALUE_64:
      return write_value(c, stream, p.writeValue.address, p.writeValue.value64, 8, p.writeValue.flags);
    // Work on a stream runs in order, and writes of one stream are seen by
    // the next operator of any: a barrier has nothing left to order.
    case CU_STREAM_MEM_OP_BARRIER: return CUDA_SUCCESS;
    case CU_STREAM_MEM_OP_FLUSH_REMOTE_WRITES: RRTO_NOT_SUPPORTED(cuStreamBatchMemOp, "flushing remote writes");
    default: return CUDA_ERROR_INVALID_VALUE;
  }
}

bool known_stream(Client& c, CUstream s) {
  auto state = c.lock();
  return valid_stream(*state, s);
}

}  // namespace

CUresult api::cuStreamWriteValue32_v2(Client& c, bool per_thread, CUstream s, CUdeviceptr addr, cuuint32_t value,
                                      unsigned int flags) {
  if (!known_stream(c, s)) return CUDA_ERROR_INVALID_HANDLE;
  return write_value(c, stream_id(s, per_thread), addr, value, 4, flags);
}

CUresult api::cuStreamWriteValue64_v2(Client& c, bool per_thread, CUstream s, CUdeviceptr addr, cuuint64_t value,
                                      unsigned int flags) {
  if (!known_stream(c, s)) return CUDA_ERROR_INVALID_HANDLE;
  return write_value(c, stream_id(s, per_thread), addr, value, 8, flags);
}

CUresult api::cuStreamWaitValue32_v2(Client& c, bool per_thread, CUstream s, CUdeviceptr addr, cuuint32_t value,
                                     unsigned int flags) {
  if (!known_stream(c, s)) return CUDA_ERROR_INVALID_HANDLE;
  return wait_value(c, stream_id(s, per_thread), addr, value, 4, flags);
}

CUresult api::cuStreamWaitValue64_v2(Client& c, bool per_thread, CUstream s, CUdeviceptr addr, cuuint64_t value,
                                     unsigned int flags) {
  if (!known_stream(c, s)) return CUDA_ERROR_INVALID_HANDLE;
  return wait_value(c, stream_id(s, per_thread), addr, value, 8, flags);
}

CUresult api::cuStreamBatchMemOp_v2(Client& c, bool per_thread, CUstream s, unsigned int count,
                                    CUstreamBatchMemOpParams* params, unsigned int flags) {
  if ((count && !params) || flags != 0) return CUDA_ERROR_INVALID_VALUE;
  if (!known_stream(c, s)) return CUDA_ERROR_INVALID_HANDLE;
  const uint64_t stream = stream_id(s, per_thread);
  for (unsigned i = 0; i < count; ++i)
    if (const CUresult r = batch_op(c, stream, params[i])) return r;
  return CUDA_SUCCESS;
}
