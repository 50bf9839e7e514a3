// Driver, device and error-string entry points. Answered locally from what
// the server described at cuInit.
#include <cstdio>
#include <cstring>

#include "client/api/api.h"
#include "client/cuda_errors.h"

using namespace rrto::client;

namespace {

bool valid_device(CUdevice d) { return d == 0; }  // a session sees the one device it is placed on

}  // namespace

CUresult api::cuInit(unsigned int flags) {
  if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
  return client().init();
}

CUresult api::cuDriverGetVersion(int* version) {
  if (!version) return CUDA_ERROR_INVALID_VALUE;
  *version = CUDA_VERSION;  // the API we implement, whatever the server's driver is
  return CUDA_SUCCESS;
}

CUresult api::cuDeviceGetCount(Client& c, int* count) {
  if (!count) return CUDA_ERROR_INVALID_VALUE;
  *count = 1;
  return CUDA_SUCCESS;
}

CUresult api::cuDeviceGet(Client& c, CUdevice* device, int ordinal) {
  if (!device || !valid_device(ordinal)) return CUDA_ERROR_INVALID_DEVICE;
  *device = ordinal;
  return CUDA_SUCCESS;
}

CUresult api::cuDeviceGetName(Client& c, char* name, int len, CUdevice dev) {
  if (!name || len <= 0) return CUDA_ERROR_INVALID_VALUE;
  if (!valid_device(dev)) return CUDA_ERROR_INVALID_DEVICE;
  std::snprintf(name, static_cast<size_t>(len), "%s", c.device().name.c_str());
  return CUDA_SUCCESS;
}

CUresult api::cuDeviceGetUuid(Client& c, CUuuid* uuid, CUdevice dev) {
  if (!uuid) return CUDA_ERROR_INVALID_VALUE;
  if (!valid_device(dev)) return CUDA_ERROR_INVALID_DEVICE;
  *uuid = c.device().uuid;
  return CUDA_SUCCESS;
}

// Identical to cuDeviceGetUuid (cuda.h names it cuDeviceGetUuid).
CUresult api::cuDeviceGetUuid_v2(Client& c, CUuuid* uuid, CUdevice dev) { return api::cuDeviceGetUuid(c, uuid, dev); }

CUresult api::cuDeviceTotalMem_v2(Client& c, size_t* bytes, CUdevice dev) {
  if (!bytes) return CUDA_ERROR_INVALID_VALUE;
  if (!valid_device(dev)) return CUDA_ERROR_INVALID_DEVICE;
  *bytes = c.device().total_memory;
  return CUDA_SUCCESS;
}

CUresult api::cuDeviceGetAttribute(Client& c, int* value, CUdevice_attribute attribute, CUdevice dev) {
  if (!value) return CUDA_ERROR_INVALID_VALUE;
  if (!valid_device(dev)) return CUDA_ERROR_INVALID_DEVICE;
  if (attribute < 0 || static_cast<size_t>(attribute) >= c.device().attributes.size()) return CUDA_ERROR_INVALID_VALUE;
  *value = c.device().attributes[attribute];
  return CUDA_SUCCESS;
}

CUresult api::cuDeviceComputeCapability(Client& c, int* major, int* minor, CUdevice dev) {
  if (!major || !minor) return CUDA_ERROR_INVALID_VALUE;
  if (!valid_device(dev)) return CUDA_ERROR_INVALID_DEVICE;
  *major = c.device().attributes[CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR];
  *minor = c.device().attributes[CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR];
  return CUDA_SUCCESS;
}

CUresult api::cuDeviceGetPCIBusId(Client& c, char* pci_bus_id, int len, CUdevice dev) {
  if (!pci_bus_id || len <= 0) return CUDA_ERROR_INVALID_VALUE;
  if (!valid_device(dev)) return CUDA_ERROR_INVALID_DEVICE;
  std::snprintf(pci_bus_id, static_cast<size_t>(len), "%08x:%02x:%02x.0", c.device().pci_domain, c.device().pci_bus,
                c.device().pci_device);
  return CUDA_SUCCESS;
}

CUresult api::cuGetErrorName(CUresult error, const char** str) {
  if (!str) return CUDA_ERROR_INVALID_VALUE;
  *str = cuda_error_name(error);
  return *str ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult api::cuGetErrorString(CUresult error, const char** str) {
  if (!str) return CUDA_ERROR_INVALID_VALUE;
  *str = cuda_error_text(error);
  return *str ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
