// Device memory, copies and pointer queries. The client keeps a map of the
// device allocations it was given, so it can reject bad ranges and answer
// address queries without asking the server.
#include <cstring>
#include <iterator>

#include "client/api/api.h"

using namespace rrto::client;
namespace proto = rrto::proto;

namespace {

// A copy or memset that meets the shadow of mapped host memory is device
// work on it (client/mapped_memory.h).
CUresult before_shadow_access(ClientState& state, CUdeviceptr p, size_t size, uint64_t stream) {
  if (state.mapped.none_mapped() || !state.mapped.touches_shadow(p, size)) return CUDA_SUCCESS;
  return upload_mapped_ranges(state, stream);
}

}  // namespace

CUresult rrto::client::copy_to_device(Client& c, CUdeviceptr dst, const void* src, size_t size, uint64_t stream,
                                      bool async) {
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  if (size == 0) return CUDA_SUCCESS;
  if (!src) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  if (!state->on_device(dst, size)) return CUDA_ERROR_INVALID_VALUE;
  if (const CUresult r = before_shadow_access(*state, dst, size, stream)) return r;
  const bool send_now = state->remote.mode() == Mode::Rpc || size >= kZeroCopyThreshold;
  proto::MemcpyHtoD call{.dst = dst, .size = size, .bulk_offset = 0, .stream = stream};
  if (CUresult r = CUDA_SUCCESS; taken_by_capture(*state, call, async, r, src)) return r;
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
  if (const CUresult r = before_shadow_access(*state, src, size, stream)) return r;
  proto::MemcpyDtoH call{.src = src, .size = size, .stream = stream};
  if (CUresult r = CUDA_SUCCESS; taken_by_capture(*state, call, async, r, nullptr, dst)) return r;
  if (state->on_operator(call, dst, async)) {
    std::memcpy(dst, state->replayer.served_output(), size);
  } else {
    const CUresult r = state->remote.call_for_bulk(call, dst, size);
    if (r != CUDA_SUCCESS) return r;
    if (state->remote.last_bulk_received() != size) return CUDA_ERROR_UNKNOWN;
    state->unsynced_streams.erase(stream);  // the server waited for the stream before copying
  }
  // A synchronous copy back is a synchronisation with the stream's work.
  return async ? CUDA_SUCCESS : after_synchronisation(*state, stream);
}

CUresult rrto::client::copy_on_device(Client& c, CUdeviceptr dst, CUdeviceptr src, size_t size, uint64_t stream,
                                      bool async) {
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  if (size == 0) return CUDA_SUCCESS;
  auto state = c.lock();
  if (!state->on_device(dst, size) || !state->on_device(src, size))
    return CUDA_ERROR_INVALID_VALUE;
  if (const CUresult r = before_shadow_access(*state, dst, size, stream)) return r;
  if (const CUresult r = before_shadow_access(*state, src, size, stream)) return r;
  proto::MemcpyDtoD call{.dst = dst, .src = src, .size = size, .stream = stream};
  if (CUresult r = CUDA_SUCCESS; taken_by_capture(*state, call, async, r)) return r;
  if (state->on_operator(call, async)) return CUDA_SUCCESS;
  note_stream_work(*state, stream);
  return state->remote.defer(call);
}

CUresult rrto::client::memset_device(Client& c, CUdeviceptr dst, uint32_t value, uint32_t element_size, size_t count,
                                     uint64_t stream, bool async) {
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  if (count == 0) return CUDA_SUCCESS;
  if (dst % element_size) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  if (count > SIZE_MAX / element_size ||
      !state->on_device(dst, count * element_size))
    return CUDA_ERROR_INVALID_VALUE;
  if (const CUresult r = before_shadow_access(*state, dst, count * element_size, stream)) return r;
  proto::Memset call{.dst = dst, .value = value, .element_size = element_size, .count = count, .stream = stream};
  if (CUresult r = CUDA_SUCCESS; taken_by_capture(*state, call, async, r)) return r;
  if (state->on_operator(call, async)) return CUDA_SUCCESS;
  note_stream_work(*state, stream);
  return state->remote.defer(call);
}

CUresult rrto::client::allocate_on_device(ClientState& state, CUdeviceptr* dptr, size_t size) {
  proto::MemAlloc call{.size = size};
  proto::MemAllocResult result;
  const CUresult r = state.remote.call(call, &result);
  if (r != CUDA_SUCCESS) return r;
  state.device_allocations[result.dptr] = size;
  *dptr = result.dptr;
  return CUDA_SUCCESS;
}

CUresult rrto::client::free_on_device(ClientState& state, CUdeviceptr dptr) {
  if (!state.device_allocations.erase(dptr)) return CUDA_ERROR_INVALID_VALUE;
  state.replayer.invalidate(state.remote);
  state.graphs.templates_dropped();
  proto::MemFree call{.dptr = dptr};
  return state.remote.defer(call);
}

CUresult rrto::client::alloc_device(Client& c, CUdeviceptr* dptr, size_t size) {
  if (!dptr || size == 0) return CUDA_ERROR_INVALID_VALUE;
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  auto state = c.lock();
  return allocate_on_device(*state, dptr, size);
}

CUresult rrto::client::free_device(Client& c, CUdeviceptr dptr) {
  if (dptr == 0) return CUDA_SUCCESS;
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  auto state = c.lock();
  if (state->mapped.find_shadow(dptr).second) return CUDA_ERROR_INVALID_VALUE;  // freed with its host range
  return free_on_device(*state, dptr);
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

// What the client knows of an address: the range holding it, whether that
// is device or host memory, and its device and host addresses where it has
// them. A shadow is host memory as a device address, as a mapped range's
// device pointer is in CUDA.
struct PointerInfo {
  bool device = false, host = false;
  uint64_t base = 0;
  size_t size = 0;
  CUdeviceptr device_pointer = 0;
  void* host_pointer = nullptr;
};

PointerInfo describe_pointer(ClientState& state, CUdeviceptr ptr) {
  PointerInfo info;
  auto* host = reinterpret_cast<uint8_t*>(ptr);
  if (auto dev = state.find_allocation(ptr); dev != state.device_allocations.end()) {
    info.base = dev->first;
    info.size = dev->second;
    info.device_pointer = ptr;
    const auto [mapped_base, shadow] = state.mapped.find_shadow(ptr);
    info.device = !shadow;
    info.host = shadow;
    if (shadow) info.host_pointer = const_cast<uint8_t*>(static_cast<const uint8_t*>(mapped_base)) + (ptr - shadow->shadow);
  } else if (auto pinned = state.host_allocations.upper_bound(host); pinned != state.host_allocations.begin() &&
             host < static_cast<const uint8_t*>(std::prev(pinned)->first) + std::prev(pinned)->second.size) {
    info.host = true;
    info.base = reinterpret_cast<uintptr_t>(std::prev(pinned)->first);
    info.size = std::prev(pinned)->second.size;
  } else if (const HostRange* registered = state.mapped.find_host(host)) {
    info.host = true;
    info.size = registered->size;
    info.base = reinterpret_cast<uintptr_t>(std::prev(state.mapped.ranges().upper_bound(host))->first);
  }
  if (info.host && !info.host_pointer) {
    info.host_pointer = host;
    const HostRange* mapped = state.mapped.find_host(host);
    if (mapped && mapped->shadow) info.device_pointer = mapped->shadow + (ptr - info.base);
  }
  return info;
}

CUresult pointer_attribute(ClientState& state, void* data, CUpointer_attribute attribute, CUdeviceptr ptr) {
  const PointerInfo info = describe_pointer(state, ptr);
  if (!info.device && !info.host) return CUDA_ERROR_INVALID_VALUE;
  const uint64_t current = context_stack().empty() ? state.primary_context : context_stack().back();
  switch (attribute) {
    case CU_POINTER_ATTRIBUTE_CONTEXT:
      *static_cast<CUcontext*>(data) = reinterpret_cast<CUcontext>(current);
      return CUDA_SUCCESS;
    case CU_POINTER_ATTRIBUTE_MEMORY_TYPE:
      *static_cast<unsigned*>(data) = info.device ? CU_MEMORYTYPE_DEVICE : CU_MEMORYTYPE_HOST;
      return CUDA_SUCCESS;
    case CU_POINTER_ATTRIBUTE_DEVICE_POINTER:
      if (!info.device_pointer) return CUDA_ERROR_INVALID_VALUE;
      *static_cast<CUdeviceptr*>(data) = info.device_pointer;
      return CUDA_SUCCESS;
    case CU_POINTER_ATTRIBUTE_HOST_POINTER:
      if (!info.host_pointer) return CUDA_ERROR_INVALID_VALUE;
      *static_cast<void**>(data) = info.host_pointer;
      return CUDA_SUCCESS;
    case CU_POINTER_ATTRIBUTE_IS_MANAGED:
    case CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL:
      *static_cast<int*>(data) = 0;
      return CUDA_SUCCESS;
    case CU_POINTER_ATTRIBUTE_BUFFER_ID:
      *static_cast<unsigned long long*>(data) = info.base;
      return CUDA_SUCCESS;
    case CU_POINTER_ATTRIBUTE_RANGE_START_ADDR:
      *static_cast<CUdeviceptr*>(data) = info.base;
      return CUDA_SUCCESS;
    case CU_POINTER_ATTRIBUTE_RANGE_SIZE:
      *static_cast<size_t*>(data) = info.size;
      return CUDA_SUCCESS;
    case CU_POINTER_ATTRIBUTE_MAPPED:
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
