// Device memory, host memory and copies. The client keeps a map of the
// device allocations it was given, so it can reject bad ranges and answer
// address queries without asking the server.
#include <cstdlib>
#include <cstring>

#include "client/api/api.h"

using namespace rrto::client;
namespace proto = rrto::proto;

CUresult rrto::client::copy_to_device(Client& c, CUdeviceptr dst, const void* src, size_t size, uint64_t stream,
                                      bool async) {
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  if (size == 0) return CUDA_SUCCESS;
  if (!src) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  if (!state->on_device(dst, size)) return CUDA_ERROR_INVALID_VALUE;
  const bool send_now = state->remote.mode() == Mode::Rpc || size >= kZeroCopyThreshold;
  proto::MemcpyHtoD call{.dst = dst, .size = size, .bulk_offset = 0, .stream = stream};
  if (state->on_operator(call, src, async)) return CUDA_SUCCESS;
  call.bulk_offset = send_now ? state->remote.add_bulk_ref(src, size) : state->remote.add_bulk_copy(src, size);
  note_stream_work(*state, stream);
  CUresult r = state->remote.defer(call);
  if (r == CUDA_SUCCESS && send_now) r = state->remote.flush();
  return r;
}

CUresult rrto::client::copy_to_host(Client& c, void* dst, CUdeviceptr src, size_t size, uint64_t stream,
                                    bool async) {
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  if (size == 0) return CUDA_SUCCESS;
  if (!dst) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  if (!state->on_device(src, size)) return CUDA_ERROR_INVALID_VALUE;
  proto::MemcpyDtoH call{.src = src, .size = size, .stream = stream};
  if (state->on_operator(call, dst, async)) {
    std::memcpy(dst, state->replayer.served_output(), size);
    return CUDA_SUCCESS;
  }
  const CUresult r = state->remote.call_for_bulk(call, dst, size);
  if (r != CUDA_SUCCESS) return r;
  if (state->remote.last_bulk_received() != size) return CUDA_ERROR_UNKNOWN;
  state->unsynced_streams.erase(stream);  // the server waited for the stream before copying
  return CUDA_SUCCESS;
}

CUresult rrto::client::copy_on_device(Client& c, CUdeviceptr dst, CUdeviceptr src, size_t size, uint64_t stream,
                                      bool async) {
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  if (size == 0) return CUDA_SUCCESS;
  auto state = c.lock();
  if (!state->on_device(dst, size) || !state->on_device(src, size))
    return CUDA_ERROR_INVALID_VALUE;
  proto::MemcpyDtoD call{.dst = dst, .src = src, .size = size, .stream = stream};
  if (state->on_operator(call, async)) return CUDA_SUCCESS;
  note_stream_work(*state, stream);
  return state->remote.defer(call);
}

namespace {

CUresult memset_device(Client& c, CUdeviceptr dst, uint32_t value, uint32_t element_size, size_t count,
                       uint64_t stream, bool async) {
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  if (count == 0) return CUDA_SUCCESS;
  if (dst % element_size) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  if (count > SIZE_MAX / element_size ||
      !state->on_device(dst, count * element_size))
    return CUDA_ERROR_INVALID_VALUE;
  proto::Memset call{.dst = dst, .value = value, .element_size = element_size, .count = count, .stream = stream};
  if (state->on_operator(call, async)) return CUDA_SUCCESS;
  note_stream_work(*state, stream);
  return state->remote.defer(call);
}

CUresult alloc_host(Client& c, void** pp, size_t size) {
  if (!pp || size == 0) return CUDA_ERROR_INVALID_VALUE;
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  void* p = std::aligned_alloc(4096, (size + 4095) & ~size_t{4095});
  if (!p) return CUDA_ERROR_OUT_OF_MEMORY;
  auto state = c.lock();
  state->host_allocations[p] = size;
  *pp = p;
  return CUDA_SUCCESS;
}

}  // namespace

CUresult rrto::client::alloc_device(Client& c, CUdeviceptr* dptr, size_t size) {
  if (!dptr || size == 0) return CUDA_ERROR_INVALID_VALUE;
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  auto state = c.lock();
  proto::MemAlloc call{.size = size};
  proto::MemAllocResult result;
  const CUresult r = state->remote.call(call, &result);
  if (r != CUDA_SUCCESS) return r;
  state->device_allocations[result.dptr] = size;
  *dptr = result.dptr;
  return CUDA_SUCCESS;
}

CUresult rrto::client::free_device(Client& c, CUdeviceptr dptr) {
  if (dptr == 0) return CUDA_SUCCESS;
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  auto state = c.lock();
  if (!state->device_allocations.erase(dptr)) return CUDA_ERROR_INVALID_VALUE;
  state->replayer.invalidate(state->remote);
  proto::MemFree call{.dptr = dptr};
  return state->remote.defer(call);
}

CUresult api::cuMemAlloc_v2(Client& c, CUdeviceptr* dptr, size_t size) {
  return alloc_device(c, dptr, size);
}

CUresult api::cuMemFree_v2(Client& c, CUdeviceptr dptr) {
  return free_device(c, dptr);
}

CUresult api::cuMemGetInfo_v2(Client& c, size_t* free, size_t* total) {
  if (!free || !total) return CUDA_ERROR_INVALID_VALUE;
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  auto state = c.lock();
  proto::MemGetInfo call;
  proto::MemGetInfoResult result;
  const CUresult r = state->remote.call(call, &result);
  if (r != CUDA_SUCCESS) return r;
  *free = result.free;
  *total = result.total;
  return CUDA_SUCCESS;
}

CUresult api::cuMemGetAddressRange_v2(Client& c, CUdeviceptr* base, size_t* size, CUdeviceptr dptr) {
  auto state = c.lock();
  auto it = state->find_allocation(dptr);
  if (it == state->device_allocations.end()) return CUDA_ERROR_NOT_FOUND;
  if (base) *base = it->first;
  if (size) *size = it->second;
  return CUDA_SUCCESS;
}

// Page-locked host memory means nothing to a remote device: it is ordinary
// host memory, tracked so pointer queries can recognise it.
CUresult api::cuMemAllocHost_v2(Client& c, void** pp, size_t size) {
  return alloc_host(c, pp, size);
}

CUresult api::cuMemHostAlloc(Client& c, void** pp, size_t size, unsigned int flags) {
  if (flags & CU_MEMHOSTALLOC_DEVICEMAP) RRTO_NOT_SUPPORTED(cuMemHostAlloc, "CU_MEMHOSTALLOC_DEVICEMAP");
  return alloc_host(c, pp, size);
}

CUresult api::cuMemFreeHost(Client& c, void* p) {
  auto state = c.lock();
  if (!state->host_allocations.erase(p)) return CUDA_ERROR_INVALID_VALUE;
  std::free(p);
  return CUDA_SUCCESS;
}

// ------------------------------------------------------------------ copies

CUresult api::cuMemcpyHtoD_v2(Client& c, bool per_thread, CUdeviceptr dst, const void* src, size_t size) {
  return copy_to_device(c, dst, src, size, stream_id(nullptr, per_thread), false);
}

CUresult api::cuMemcpyDtoH_v2(Client& c, bool per_thread, void* dst, CUdeviceptr src, size_t size) {
  return copy_to_host(c, dst, src, size, stream_id(nullptr, per_thread), false);
}

CUresult api::cuMemcpyDtoD_v2(Client& c, bool per_thread, CUdeviceptr dst, CUdeviceptr src, size_t size) {
  return copy_on_device(c, dst, src, size, stream_id(nullptr, per_thread), false);
}

CUresult api::cuMemsetD8_v2(Client& c, bool per_thread, CUdeviceptr dst, unsigned char value, size_t count) {
  return memset_device(c, dst, value, 1, count, stream_id(nullptr, per_thread), false);
}

CUresult api::cuMemsetD16_v2(Client& c, bool per_thread, CUdeviceptr dst, unsigned short value, size_t count) {
  return memset_device(c, dst, value, 2, count, stream_id(nullptr, per_thread), false);
}

CUresult api::cuMemsetD32_v2(Client& c, bool per_thread, CUdeviceptr dst, unsigned int value, size_t count) {
  return memset_device(c, dst, value, 4, count, stream_id(nullptr, per_thread), false);
}

CUresult api::cuMemcpyHtoDAsync_v2(Client& c, bool per_thread, CUdeviceptr dst, const void* src, size_t size,
                                   CUstream s) {
  return copy_to_device(c, dst, src, size, stream_id(s, per_thread), true);
}

CUresult api::cuMemcpyDtoHAsync_v2(Client& c, bool per_thread, void* dst, CUdeviceptr src, size_t size, CUstream s) {
  return copy_to_host(c, dst, src, size, stream_id(s, per_thread), true);
}

CUresult api::cuMemcpyDtoDAsync_v2(Client& c, bool per_thread, CUdeviceptr dst, CUdeviceptr src, size_t size,
                                   CUstream s) {
  return copy_on_device(c, dst, src, size, stream_id(s, per_thread), true);
}

CUresult api::cuMemsetD8Async(Client& c, bool per_thread, CUdeviceptr dst, unsigned char value, size_t count,
                              CUstream s) {
  return memset_device(c, dst, value, 1, count, stream_id(s, per_thread), true);
}

CUresult api::cuMemsetD16Async(Client& c, bool per_thread, CUdeviceptr dst, unsigned short value, size_t count,
                               CUstream s) {
  return memset_device(c, dst, value, 2, count, stream_id(s, per_thread), true);
}

CUresult api::cuMemsetD32Async(Client& c, bool per_thread, CUdeviceptr dst, unsigned int value, size_t count,
                               CUstream s) {
  return memset_device(c, dst, value, 4, count, stream_id(s, per_thread), true);
}

// ---------------------------------------------------------- pointer queries

namespace {

CUresult pointer_attribute(ClientState& state, void* data, CUpointer_attribute attribute, CUdeviceptr ptr) {
  auto dev = state.find_allocation(ptr);
  const bool on_device = dev != state.device_allocations.end();
  const void* host_ptr = reinterpret_cast<const void*>(ptr);
  auto host = state.host_allocations.upper_bound(host_ptr);
  bool on_host = false;
  if (host != state.host_allocations.begin()) {
    --host;
    on_host = static_cast<const char*>(host_ptr) < static_cast<const char*>(host->first) + host->second;
  }
  if (!on_device && !on_host) return CUDA_ERROR_INVALID_VALUE;
  const uint64_t current = context_stack().empty() ? state.primary_context : context_stack().back();
  switch (attribute) {
    case CU_POINTER_ATTRIBUTE_CONTEXT:
      *static_cast<CUcontext*>(data) = reinterpret_cast<CUcontext>(current);
      return CUDA_SUCCESS;
    case CU_POINTER_ATTRIBUTE_MEMORY_TYPE:
      *static_cast<unsigned*>(data) = on_device ? CU_MEMORYTYPE_DEVICE : CU_MEMORYTYPE_HOST;
      return CUDA_SUCCESS;
    case CU_POINTER_ATTRIBUTE_DEVICE_POINTER:
      if (!on_device) return CUDA_ERROR_INVALID_VALUE;
      *static_cast<CUdeviceptr*>(data) = ptr;
      return CUDA_SUCCESS;
    case CU_POINTER_ATTRIBUTE_HOST_POINTER:
      if (!on_host) return CUDA_ERROR_INVALID_VALUE;
      *static_cast<void**>(data) = reinterpret_cast<void*>(ptr);
      return CUDA_SUCCESS;
    case CU_POINTER_ATTRIBUTE_IS_MANAGED:
      *static_cast<int*>(data) = 0;
      return CUDA_SUCCESS;
    case CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL:
      *static_cast<int*>(data) = 0;
      return CUDA_SUCCESS;
    case CU_POINTER_ATTRIBUTE_BUFFER_ID:
      *static_cast<unsigned long long*>(data) = on_device ? dev->first : reinterpret_cast<uintptr_t>(host->first);
      return CUDA_SUCCESS;
    case CU_POINTER_ATTRIBUTE_RANGE_START_ADDR:
      *static_cast<CUdeviceptr*>(data) = on_device ? dev->first : reinterpret_cast<uintptr_t>(host->first);
      return CUDA_SUCCESS;
    case CU_POINTER_ATTRIBUTE_RANGE_SIZE:
      *static_cast<size_t*>(data) = on_device ? dev->second : host->second;
      return CUDA_SUCCESS;
    case CU_POINTER_ATTRIBUTE_MAPPED:
      *static_cast<int*>(data) = 1;
      return CUDA_SUCCESS;
    case CU_POINTER_ATTRIBUTE_SYNC_MEMOPS:
      *static_cast<int*>(data) = 1;
      return CUDA_SUCCESS;
    default:
      return CUDA_ERROR_INVALID_VALUE;
  }
}

}  // namespace

CUresult api::cuPointerGetAttribute(Client& c, void* data, CUpointer_attribute attribute, CUdeviceptr ptr) {
  if (!data) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  return pointer_attribute(*state, data, attribute, ptr);
}

CUresult api::cuPointerGetAttributes(Client& c, unsigned int count, CUpointer_attribute* attributes, void** data,
                                     CUdeviceptr ptr) {
  if (!attributes || !data) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  // Unlike the single query, an unknown pointer is not an error here: its
  // attributes read as zero (memory type 0 = not CUDA memory).
  for (unsigned i = 0; i < count; ++i) {
    if (!data[i]) continue;
    if (pointer_attribute(*state, data[i], attributes[i], ptr) != CUDA_SUCCESS) {
      switch (attributes[i]) {
        case CU_POINTER_ATTRIBUTE_CONTEXT:
        case CU_POINTER_ATTRIBUTE_HOST_POINTER:
        case CU_POINTER_ATTRIBUTE_DEVICE_POINTER:
        case CU_POINTER_ATTRIBUTE_BUFFER_ID:
        case CU_POINTER_ATTRIBUTE_RANGE_START_ADDR:
        case CU_POINTER_ATTRIBUTE_RANGE_SIZE:
          std::memset(data[i], 0, sizeof(void*));
          break;
        case CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL:
          *static_cast<int*>(data[i]) = -2;  // what the driver reports for non-CUDA memory
          break;
        default:
          *static_cast<int*>(data[i]) = 0;
      }
    }
  }
  return CUDA_SUCCESS;
}
