// Function attributes. A kernel's attributes change only when the program
// sets one, so each is asked of the server once and then answered locally;
// the ones a program sets are kept here too, and queued for the server with
// the work (FuncSetAttribute, FuncSetCacheConfig). cudart reads many of them
// (cudaFuncGetAttributes, occupancy), which must not cost a round trip each
// time.
#include "client/api/api.h"
#include "protocol/launch_attributes.h"

using namespace rrto::client;
namespace proto = rrto::proto;

namespace {

// A function's setting is applied on the server in order with the work
// around it. A speculation in hand ends first: the server's continuation
// ran with the setting as it was.
template <typename Call>
CUresult queue_setting(ClientState& state, Call& call) {
  state.replayer.before_setting(state.remote);
  return state.remote.defer(call);
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

// A setting that changes nothing is not sent: some libraries set an
// attribute before every launch, which then adds nothing to an inference
// (and leaves its replay alone).
CUresult rrto::client::set_function_attribute(Client& c, CUfunction f, int attribute, int value) {
  if (!proto::settable_function_attribute(attribute)) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  Function* function = state->functions.find(f);
  if (!function) return CUDA_ERROR_INVALID_HANDLE;
  const int max_shared_optin = c.device().attributes[CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN];
  if (!proto::valid_function_attribute_value(attribute, value, max_shared_optin)) return CUDA_ERROR_INVALID_VALUE;
  FunctionAttributes& cached = function->attributes;
  if (cached.known[attribute] && cached.value[attribute] == value) return CUDA_SUCCESS;
  proto::FuncSetAttribute call{.function = function->handle, .attribute = attribute, .value = value};
  if (const CUresult r = queue_setting(*state, call)) return r;
  cached.value[attribute] = value;
  cached.known[attribute] = true;
  return CUDA_SUCCESS;
}

CUresult rrto::client::set_function_cache_config(Client& c, CUfunction f, CUfunc_cache config) {
  if (!proto::valid_cache_config(config)) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  Function* function = state->functions.find(f);
  if (!function) return CUDA_ERROR_INVALID_HANDLE;
  if (function->cache_config == config) return CUDA_SUCCESS;
  proto::FuncSetCacheConfig call{.function = function->handle, .config = config};
  if (const CUresult r = queue_setting(*state, call)) return r;
  function->cache_config = config;
  return CUDA_SUCCESS;
}

CUresult api::cuFuncSetAttribute(Client& c, CUfunction f, CUfunction_attribute attribute, int value) {
  return set_function_attribute(c, f, attribute, value);
}

CUresult api::cuFuncSetCacheConfig(Client& c, CUfunction f, CUfunc_cache config) {
  return set_function_cache_config(c, f, config);
}

// Checked only: no device CUDA still supports has a shared memory bank size
// to choose (the driver ignores it since compute capability 7.0).
CUresult api::cuFuncSetSharedMemConfig(Client& c, CUfunction f, CUsharedconfig config) {
  switch (config) {
    case CU_SHARED_MEM_CONFIG_DEFAULT_BANK_SIZE:
    case CU_SHARED_MEM_CONFIG_FOUR_BYTE_BANK_SIZE:
    case CU_SHARED_MEM_CONFIG_EIGHT_BYTE_BANK_SIZE: break;
    default: return CUDA_ERROR_INVALID_VALUE;
  }
  auto state = c.lock();
  return state->functions.find(f) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

CUresult api::cuFuncGetName(Client& c, const char** name, CUfunction f) {
  if (!name) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  const Function* function = state->functions.find(f);
  if (!function) return CUDA_ERROR_INVALID_HANDLE;
  *name = function->kernel->name.c_str();
  return CUDA_SUCCESS;
}
