// Function attributes. A kernel's attributes do not change once it is loaded,
// so each is asked of the server once and then answered locally; the ones a
// program may set are kept here. cudart reads many of them (cudaFuncGetAttributes,
// occupancy), which must not cost a round trip each time.
#include "client/api/api.h"

using namespace rrto::client;
namespace proto = rrto::proto;

namespace {

bool settable(int attribute) {
  switch (attribute) {
    case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES:
    case CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT:
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_WIDTH:
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_HEIGHT:
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_DEPTH:
    case CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED:
    case CU_FUNC_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE: return true;
    default: return false;
  }
}

bool valid_setting(const Client& c, int attribute, int value) {
  switch (attribute) {
    case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES:
      return value >= 0 && value <= c.device().attributes[CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN];
    case CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT: return value >= -1 && value <= 100;
    default: return value >= 0;
  }
}

}  // namespace

CUresult rrto::client::function_attribute(Client& c, int* value, int attribute, CUfunction f) {
  if (!value || attribute < 0 || attribute >= CU_FUNC_ATTRIBUTE_MAX) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  Function* function = state->functions.find(f);
  if (!function) return CUDA_ERROR_INVALID_HANDLE;
  FunctionAttributes& cached = function->attributes;
  if (!cached.known[attribute]) {
    proto::FuncGetAttribute call{.function = function->handle, .attribute = attribute};
    proto::FuncGetAttributeResult result;
    if (const CUresult r = state->remote.call(call, &result); r != CUDA_SUCCESS) return r;
    cached.value[attribute] = result.value;
    cached.known[attribute] = true;
  }
  *value = cached.value[attribute];
  return CUDA_SUCCESS;
}

// Kept locally: the server's functions keep their defaults, which matters only
// for a dynamic shared memory size above the default limit on a real GPU.
CUresult rrto::client::set_function_attribute(Client& c, CUfunction f, int attribute, int value) {
  if (!settable(attribute)) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  Function* function = state->functions.find(f);
  if (!function) return CUDA_ERROR_INVALID_HANDLE;
  if (!valid_setting(c, attribute, value)) return CUDA_ERROR_INVALID_VALUE;
  if (attribute == CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES &&
      value > c.device().attributes[CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK]) {
    static std::once_flag once;
    std::call_once(once, [] {
      RRTO_WARN("client", "cuFuncSetAttribute: a larger dynamic shared memory size is not passed on to the server");
    });
  }
  FunctionAttributes& cached = function->attributes;
  cached.value[attribute] = value;
  cached.known[attribute] = true;
  return CUDA_SUCCESS;
}

// A preference only: nothing to pass on.
CUresult rrto::client::set_function_cache_config(Client& c, CUfunction f, CUfunc_cache config) {
  switch (config) {
    case CU_FUNC_CACHE_PREFER_NONE:
    case CU_FUNC_CACHE_PREFER_SHARED:
    case CU_FUNC_CACHE_PREFER_L1:
    case CU_FUNC_CACHE_PREFER_EQUAL: break;
    default: return CUDA_ERROR_INVALID_VALUE;
  }
  auto state = c.lock();
  return state->functions.find(f) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

CUresult api::cuFuncSetAttribute(Client& c, CUfunction f, CUfunction_attribute attribute, int value) {
  return set_function_attribute(c, f, attribute, value);
}

CUresult api::cuFuncSetCacheConfig(Client& c, CUfunction f, CUfunc_cache config) {
  return set_function_cache_config(c, f, config);
}

CUresult api::cuFuncGetName(Client& c, const char** name, CUfunction f) {
  if (!name) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  const Function* function = state->functions.find(f);
  if (!function) return CUDA_ERROR_INVALID_HANDLE;
  *name = function->kernel->name.c_str();
  return CUDA_SUCCESS;
}
