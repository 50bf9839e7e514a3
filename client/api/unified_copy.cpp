// cuMemcpy and cuMemcpyAsync: copies whose direction comes from the pointers
// (unified addressing; cudart's cudaMemcpyDefault). The client knows every
// device allocation, so it tells the direction locally and hands the copy to
// the entry point of that direction, which queues it as usual.
#include <cstring>

#include "client/api/api.h"

using namespace rrto::client;

namespace {

enum class Direction { HostToDevice, DeviceToHost, DeviceToDevice, HostToHost };

Direction direction(Client& c, CUdeviceptr dst, CUdeviceptr src) {
  auto state = c.lock();
  const bool dst_device = state->on_device(dst);
  const bool src_device = state->on_device(src);
  if (dst_device) return src_device ? Direction::DeviceToDevice : Direction::HostToDevice;
  return src_device ? Direction::DeviceToHost : Direction::HostToHost;
}

void* host(CUdeviceptr p) { return reinterpret_cast<void*>(p); }

// Between two host buffers the device plays no part.
CUresult copy_on_host(CUdeviceptr dst, CUdeviceptr src, size_t size) {
  if (size && (!dst || !src)) return CUDA_ERROR_INVALID_VALUE;
  std::memmove(host(dst), host(src), size);
  return CUDA_SUCCESS;
}

CUresult unified_copy(Client& c, CUdeviceptr dst, CUdeviceptr src, size_t size, uint64_t stream, bool async) {
  switch (direction(c, dst, src)) {
    case Direction::HostToDevice: return copy_to_device(c, dst, host(src), size, stream, async);
    case Direction::DeviceToHost: return copy_to_host(c, host(dst), src, size, stream, async);
    case Direction::DeviceToDevice: return copy_on_device(c, dst, src, size, stream, async);
    case Direction::HostToHost: return copy_on_host(dst, src, size);
  }
  return CUDA_ERROR_INVALID_VALUE;
}

}  // namespace

CUresult api::cuMemcpy(Client& c, bool per_thread, CUdeviceptr dst, CUdeviceptr src, size_t size) {
  return unified_copy(c, dst, src, size, stream_id(nullptr, per_thread), false);
}

CUresult api::cuMemcpyAsync(Client& c, bool per_thread, CUdeviceptr dst, CUdeviceptr src, size_t size,
                            CUstream stream) {
  return unified_copy(c, dst, src, size, stream_id(stream, per_thread), true);
}
