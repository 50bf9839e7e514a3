// Context limits and preferences, and what the device says about its peers:
// cudart reads them at start-up and when a program asks (cudaDeviceGetLimit,
// cudaDeviceGetStreamPriorityRange...). Kept in the client; the limits a
// program sets govern device-side malloc, printf and stacks, which the
// server's contexts keep at their defaults.
#include <cstdio>

#include "client/api/api.h"

using namespace rrto::client;

namespace {

bool read_only(CUlimit limit) { return limit == CU_LIMIT_SHMEM_SIZE || limit == CU_LIMIT_CIG_ENABLED; }

// What the GPUs of the last generations report.
constexpr int kGreatestStreamPriority = -5;

}  // namespace

CUresult api::cuCtxGetLimit(Client& c, size_t* value, CUlimit limit) {
  if (!value || limit < 0 || limit >= CU_LIMIT_MAX) return CUDA_ERROR_INVALID_VALUE;
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  auto state = c.lock();
  *value = limit == CU_LIMIT_SHMEM_SIZE ? c.device().attributes[CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN]
                                        : state->limits[limit];
  return CUDA_SUCCESS;
}

CUresult api::cuCtxSetLimit(Client& c, CUlimit limit, size_t value) {
  if (limit < 0 || limit >= CU_LIMIT_MAX || read_only(limit)) return CUDA_ERROR_INVALID_VALUE;
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  if (limit == CU_LIMIT_MAX_L2_FETCH_GRANULARITY && value > 128) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  state->limits[limit] = value;
  return CUDA_SUCCESS;
}

CUresult api::cuCtxGetCacheConfig(Client& c, CUfunc_cache* config) {
  if (!config) return CUDA_ERROR_INVALID_VALUE;
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  auto state = c.lock();
  *config = state->cache_config;
  return CUDA_SUCCESS;
}

// A preference only: nothing to pass on.
CUresult api::cuCtxSetCacheConfig(Client& c, CUfunc_cache config) {
  if (config < CU_FUNC_CACHE_PREFER_NONE || config > CU_FUNC_CACHE_PREFER_EQUAL) return CUDA_ERROR_INVALID_VALUE;
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  auto state = c.lock();
  state->cache_config = config;
  return CUDA_SUCCESS;
}

CUresult api::cuCtxGetStreamPriorityRange(Client& c, int* least, int* greatest) {
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  const bool supported = c.device().attributes[CU_DEVICE_ATTRIBUTE_STREAM_PRIORITIES_SUPPORTED] != 0;
  if (least) *least = 0;
  if (greatest) *greatest = supported ? kGreatestStreamPriority : 0;
  return CUDA_SUCCESS;
}

// Accepts the forms cuDeviceGetPCIBusId writes and the short ones
// (domain:bus:device.function, bus:device.function).
CUresult api::cuDeviceGetByPCIBusId(Client& c, CUdevice* dev, const char* bus_id) {
  if (!dev || !bus_id) return CUDA_ERROR_INVALID_VALUE;
  unsigned domain = 0, bus = 0, device = 0, function = 0;
  if (std::sscanf(bus_id, "%x:%x:%x.%x", &domain, &bus, &device, &function) != 4) {
    domain = 0;
    if (std::sscanf(bus_id, "%x:%x.%x", &bus, &device, &function) != 3) return CUDA_ERROR_INVALID_VALUE;
  }
  if (static_cast<int>(domain) != c.device().pci_domain || static_cast<int>(bus) != c.device().pci_bus ||
      static_cast<int>(device) != c.device().pci_device)
    return CUDA_ERROR_INVALID_DEVICE;
  *dev = 0;
  return CUDA_SUCCESS;
}

// A session sees one device: it has no peers.
CUresult api::cuDeviceCanAccessPeer(Client& c, int* can_access, CUdevice dev, CUdevice peer) {
  if (!can_access) return CUDA_ERROR_INVALID_VALUE;
  if (dev != 0 || peer != 0) return CUDA_ERROR_INVALID_DEVICE;
  *can_access = 0;
  return CUDA_SUCCESS;
}

// The only pair is the device with itself, which the driver refuses too.
CUresult api::cuDeviceGetP2PAttribute(Client& c, int* value, CUdevice_P2PAttribute, CUdevice, CUdevice) {
  return value ? CUDA_ERROR_INVALID_DEVICE : CUDA_ERROR_INVALID_VALUE;
}
