// Modules and functions. The client parses each image it forwards, so it
// knows every kernel's name and parameter layout and can answer lookups and
// layout queries without a round trip.
#include "client/api/api.h"

using namespace rrto::client;
namespace proto = rrto::proto;

namespace rrto::client {

CUresult load_module(Client& c, CUmodule* out, const void* image) {
  if (!out || !image) return CUDA_ERROR_INVALID_VALUE;
  auto module = std::make_unique<Module>();
  if (const rrto::Status s = rrto::parse_module_image(image, SIZE_MAX, module->image); !ok(s)) {
    RRTO_WARN("client", "cannot load module image: {}", rrto::status_name(s));
    return CUDA_ERROR_INVALID_IMAGE;
  }
  auto state = c.lock();
  Module* m = module.get();
  const uint64_t h = state->modules.insert(std::move(module));
  proto::ModuleLoad call{.module = h, .bulk_offset = 0, .size = m->image.bytes.size()};
  // The image stays alive in the Module until cuModuleUnload, which flushes first.
  call.bulk_offset = state->remote.add_bulk_ref(m->image.bytes.data(), m->image.bytes.size());
  const CUresult r = state->remote.defer(call);
  if (r != CUDA_SUCCESS) {
    state->modules.remove(h);
    return r;
  }
  *out = reinterpret_cast<CUmodule>(h);
  return CUDA_SUCCESS;
}

CUresult unload_module(Client& c, CUmodule hmod) {
  auto state = c.lock();
  Module* m = state->modules.find(hmod);
  if (!m) return CUDA_ERROR_INVALID_HANDLE;
  // Queued calls may still reference the image bytes.
  if (const CUresult r = state->remote.flush(); r != CUDA_SUCCESS) return r;
  for (const uint64_t f : m->functions) state->functions.remove(f);
  state->replayer.invalidate(state->remote);
  state->graphs.templates_dropped();
  proto::ModuleUnload call{.module = m->handle};
  state->modules.remove(m->handle);
  return state->remote.defer(call);
}

CUresult get_function(Client& c, CUfunction* out, CUmodule hmod, const char* name) {
  if (!out || !name) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  Module* m = state->modules.find(hmod);
  if (!m) return CUDA_ERROR_INVALID_HANDLE;
  const rrto::KernelInfo* kernel = m->image.find(name);
  if (!kernel) return CUDA_ERROR_NOT_FOUND;
  for (const uint64_t f : m->functions) {
    if (state->functions.find(f)->kernel == kernel) {
      *out = reinterpret_cast<CUfunction>(f);
      return CUDA_SUCCESS;
    }
  }
  auto function = std::make_unique<Function>();
  function->module = m;
  function->kernel = kernel;
  std::vector<rrto::KernelParam> layout;
  for (const rrto::ParamInfo& p : kernel->params) layout.push_back({p.offset, p.size});
  function->def = state->recorder.kernels().intern(m->image.content_hash, kernel->name, layout);
  const uint64_t h = state->functions.insert(std::move(function));
  m->functions.push_back(h);
  static_assert(sizeof(rrto::ParamInfo) == 2 * sizeof(uint32_t));
  proto::ModuleGetFunction call{
      .module = m->handle,
      .function = h,
      .name = kernel->name,
      .param_layout = {reinterpret_cast<const uint8_t*>(kernel->params.data()),
                       kernel->params.size() * sizeof(rrto::ParamInfo)}};
  const CUresult r = state->remote.defer(call);
  if (r != CUDA_SUCCESS) return r;
  *out = reinterpret_cast<CUfunction>(h);
  return CUDA_SUCCESS;
}

CUresult get_global(Client& c, CUdeviceptr* dptr, size_t* bytes, CUmodule hmod, const char* name) {
  if (!name) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  Module* m = state->modules.find(hmod);
  if (!m) return CUDA_ERROR_INVALID_HANDLE;
  proto::ModuleGetGlobal call{.module = m->handle, .name = name};
  proto::ModuleGetGlobalResult result;
  const CUresult r = state->remote.call(call, &result);
  if (r != CUDA_SUCCESS) return r;
  state->device_allocations[result.dptr] = result.size;  // copies to and from it are checked like any allocation
  if (dptr) *dptr = result.dptr;
  if (bytes) *bytes = result.size;
  return CUDA_SUCCESS;
}

}  // namespace rrto::client

CUresult api::cuModuleLoadData(Client& c, CUmodule* module, const void* image) {
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  return load_module(c, module, image);
}

// JIT options only tune compilation on the server's driver; they are ignored.
CUresult api::cuModuleLoadDataEx(Client& c, CUmodule* module, const void* image, unsigned int, CUjit_option*, void**) {
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  return load_module(c, module, image);
}

CUresult api::cuModuleLoadFatBinary(Client& c, CUmodule* module, const void* fatbin) {
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  return load_module(c, module, fatbin);
}

CUresult api::cuModuleUnload(Client& c, CUmodule hmod) {
  return unload_module(c, hmod);
}

CUresult api::cuModuleGetFunction(Client& c, CUfunction* out, CUmodule hmod, const char* name) {
  return get_function(c, out, hmod, name);
}

CUresult api::cuModuleGetGlobal_v2(Client& c, CUdeviceptr* dptr, size_t* bytes, CUmodule hmod, const char* name) {
  return get_global(c, dptr, bytes, hmod, name);
}

CUresult api::cuFuncGetAttribute(Client& c, int* value, CUfunction_attribute attribute, CUfunction f) {
  return function_attribute(c, value, attribute, f);
}

CUresult api::cuFuncGetParamInfo(Client& c, CUfunction f, size_t index, size_t* offset, size_t* size) {
  auto state = c.lock();
  const Function* function = state->functions.find(f);
  if (!function) return CUDA_ERROR_INVALID_HANDLE;
  const auto& params = function->kernel->params;
  if (index >= params.size()) return CUDA_ERROR_INVALID_VALUE;
  if (offset) *offset = params[index].offset;
  if (size) *size = params[index].size;
  return CUDA_SUCCESS;
}
