// Driver, device and error-string entry points. Answered locally from what
// the server described at cuInit.
#include <cstdio>
#include <cstring>

#include "client/api/api.h"

using namespace rrto::client;

namespace {

struct ErrorText {
  int code;
  const char* name;
  const char* text;
};
constexpr ErrorText kErrors[] = {
#include "client/generated/cuda_errors.inc"
};

const ErrorText* find_error(CUresult r) {
  for (const auto& e : kErrors)
    if (e.code == static_cast<int>(r)) return &e;
  return nullptr;
}

bool valid_device(CUdevice d) { return d == 0; }  // a session sees the one device it is placed on

}  // namespace

RRTO_EXPORT CUresult cuInit(unsigned int flags) {
  RRTO_COUNT_CALL(cuInit);
  if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
  return client().init();
}

RRTO_EXPORT CUresult cuDriverGetVersion(int* version) {
  RRTO_COUNT_CALL(cuDriverGetVersion);
  if (!version) return CUDA_ERROR_INVALID_VALUE;
  *version = CUDA_VERSION;  // the API we implement, whatever the server's driver is
  return CUDA_SUCCESS;
}

RRTO_EXPORT CUresult cuDeviceGetCount(int* count) {
  RRTO_ENTER(cuDeviceGetCount);
  if (!count) return CUDA_ERROR_INVALID_VALUE;
  *count = 1;
  return CUDA_SUCCESS;
}

RRTO_EXPORT CUresult cuDeviceGet(CUdevice* device, int ordinal) {
  RRTO_ENTER(cuDeviceGet);
  if (!device || !valid_device(ordinal)) return CUDA_ERROR_INVALID_DEVICE;
  *device = ordinal;
  return CUDA_SUCCESS;
}

RRTO_EXPORT CUresult cuDeviceGetName(char* name, int len, CUdevice dev) {
  RRTO_ENTER(cuDeviceGetName);
  if (!name || len <= 0) return CUDA_ERROR_INVALID_VALUE;
  if (!valid_device(dev)) return CUDA_ERROR_INVALID_DEVICE;
  std::snprintf(name, static_cast<size_t>(len), "%s", c.device.name.c_str());
  return CUDA_SUCCESS;
}

RRTO_EXPORT CUresult cuDeviceGetUuid(CUuuid* uuid, CUdevice dev) {
  RRTO_ENTER(cuDeviceGetUuid);
  if (!uuid) return CUDA_ERROR_INVALID_VALUE;
  if (!valid_device(dev)) return CUDA_ERROR_INVALID_DEVICE;
  *uuid = c.device.uuid;
  return CUDA_SUCCESS;
}

RRTO_EXPORT CUresult cuDeviceGetUuid_v2(CUuuid* uuid, CUdevice dev) {
  RRTO_ENTER(cuDeviceGetUuid_v2);
  if (!uuid) return CUDA_ERROR_INVALID_VALUE;
  if (!valid_device(dev)) return CUDA_ERROR_INVALID_DEVICE;
  *uuid = c.device.uuid;
  return CUDA_SUCCESS;
}

RRTO_EXPORT CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice dev) {
  RRTO_ENTER(cuDeviceTotalMem_v2);
  if (!bytes) return CUDA_ERROR_INVALID_VALUE;
  if (!valid_device(dev)) return CUDA_ERROR_INVALID_DEVICE;
  *bytes = c.device.total_memory;
  return CUDA_SUCCESS;
}

RRTO_EXPORT CUresult cuDeviceGetAttribute(int* value, CUdevice_attribute attribute, CUdevice dev) {
  RRTO_ENTER(cuDeviceGetAttribute);
  if (!value) return CUDA_ERROR_INVALID_VALUE;
  if (!valid_device(dev)) return CUDA_ERROR_INVALID_DEVICE;
  if (attribute < 0 || static_cast<size_t>(attribute) >= c.device.attributes.size()) return CUDA_ERROR_INVALID_VALUE;
  *value = c.device.attributes[attribute];
  return CUDA_SUCCESS;
}

RRTO_EXPORT CUresult cuDeviceComputeCapability(int* major, int* minor, CUdevice dev) {
  RRTO_ENTER(cuDeviceComputeCapability);
  if (!major || !minor) return CUDA_ERROR_INVALID_VALUE;
  if (!valid_device(dev)) return CUDA_ERROR_INVALID_DEVICE;
  *major = c.device.attributes[CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR];
  *minor = c.device.attributes[CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR];
  return CUDA_SUCCESS;
}

RRTO_EXPORT CUresult cuDeviceGetPCIBusId(char* pci_bus_id, int len, CUdevice dev) {
  RRTO_ENTER(cuDeviceGetPCIBusId);
  if (!pci_bus_id || len <= 0) return CUDA_ERROR_INVALID_VALUE;
  if (!valid_device(dev)) return CUDA_ERROR_INVALID_DEVICE;
  std::snprintf(pci_bus_id, static_cast<size_t>(len), "%08x:%02x:%02x.0", c.device.pci_domain, c.device.pci_bus,
                c.device.pci_device);
  return CUDA_SUCCESS;
}

RRTO_EXPORT CUresult cuGetErrorName(CUresult error, const char** str) {
  RRTO_COUNT_CALL(cuGetErrorName);
  if (!str) return CUDA_ERROR_INVALID_VALUE;
  const ErrorText* e = find_error(error);
  *str = e ? e->name : nullptr;
  return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

RRTO_EXPORT CUresult cuGetErrorString(CUresult error, const char** str) {
  RRTO_COUNT_CALL(cuGetErrorString);
  if (!str) return CUDA_ERROR_INVALID_VALUE;
  const ErrorText* e = find_error(error);
  *str = e ? e->text : nullptr;
  return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
