// Libraries and kernels: the context-independent module API that cudart uses
// to load its fatbins (lazily, at a kernel's first launch). A session has one
// device, so a library needs one module and a kernel one function: a CUlibrary
// is the module's handle and a CUkernel the function's. cuKernelGetFunction
// returns the same handle, and a CUkernel that cudart passes to cuLaunchKernel
// is already a valid CUfunction. Loading is queued like cuModuleLoadData.
#include <cstdlib>
#include <cstring>

#include "client/api/api.h"

using namespace rrto::client;

namespace {

CUmodule as_module(CUlibrary library) { return reinterpret_cast<CUmodule>(library); }

bool valid_device(CUdevice dev) { return dev == 0; }

}  // namespace

// JIT and library options only tune the server's driver; they are ignored.
CUresult api::cuLibraryLoadData(Client& c, CUlibrary* library, const void* code, CUjit_option*, void**, unsigned int,
                                CUlibraryOption*, void**, unsigned int) {
  return load_module(c, reinterpret_cast<CUmodule*>(library), code);
}

CUresult api::cuLibraryUnload(Client& c, CUlibrary library) {
  return unload_module(c, as_module(library));
}

CUresult api::cuLibraryGetModule(Client& c, CUmodule* module, CUlibrary library) {
  if (!module) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  if (!state->modules.find(library)) return CUDA_ERROR_INVALID_HANDLE;
  *module = as_module(library);
  return CUDA_SUCCESS;
}

CUresult api::cuLibraryGetKernel(Client& c, CUkernel* kernel, CUlibrary library, const char* name) {
  return get_function(c, reinterpret_cast<CUfunction*>(kernel), as_module(library), name);
}

CUresult api::cuLibraryGetKernelCount(Client& c, unsigned int* count, CUlibrary library) {
  if (!count) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  const Module* m = state->modules.find(library);
  if (!m) return CUDA_ERROR_INVALID_HANDLE;
  *count = static_cast<unsigned>(m->image.kernels.size());
  return CUDA_SUCCESS;
}

CUresult api::cuLibraryEnumerateKernels(Client& c, CUkernel* kernels, unsigned int count, CUlibrary library) {
  if (!kernels) return CUDA_ERROR_INVALID_VALUE;
  std::vector<std::string> names;
  {
    auto state = c.lock();
    const Module* m = state->modules.find(library);
    if (!m) return CUDA_ERROR_INVALID_HANDLE;
    if (count > m->image.kernels.size()) return CUDA_ERROR_INVALID_VALUE;
    for (unsigned i = 0; i < count; ++i) names.push_back(m->image.kernels[i].name);
  }
  for (unsigned i = 0; i < count; ++i) {
    const CUresult r =
        get_function(c, reinterpret_cast<CUfunction*>(&kernels[i]), as_module(library), names[i].c_str());
    if (r != CUDA_SUCCESS) return r;
  }
  return CUDA_SUCCESS;
}

CUresult api::cuLibraryGetGlobal(Client& c, CUdeviceptr* dptr, size_t* bytes, CUlibrary library, const char* name) {
  return get_global(c, dptr, bytes, as_module(library), name);
}

CUresult api::cuKernelGetFunction(Client& c, CUfunction* function, CUkernel kernel) {
  if (!function) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  if (!state->functions.find(kernel)) return CUDA_ERROR_INVALID_HANDLE;
  *function = reinterpret_cast<CUfunction>(kernel);
  return CUDA_SUCCESS;
}

CUresult api::cuKernelGetAttribute(Client& c, int* value, CUfunction_attribute attribute, CUkernel kernel,
                                   CUdevice dev) {
  if (!valid_device(dev)) return CUDA_ERROR_INVALID_DEVICE;
  return function_attribute(c, value, attribute, reinterpret_cast<CUfunction>(kernel));
}

CUresult api::cuKernelSetAttribute(Client& c, CUfunction_attribute attribute, int value, CUkernel kernel,
                                   CUdevice dev) {
  if (!valid_device(dev)) return CUDA_ERROR_INVALID_DEVICE;
  return set_function_attribute(c, reinterpret_cast<CUfunction>(kernel), attribute, value);
}

CUresult api::cuKernelSetCacheConfig(Client& c, CUkernel kernel, CUfunc_cache config, CUdevice dev) {
  if (!valid_device(dev)) return CUDA_ERROR_INVALID_DEVICE;
  return set_function_cache_config(c, reinterpret_cast<CUfunction>(kernel), config);
}

CUresult api::cuKernelGetName(Client& c, const char** name, CUkernel kernel) {
  return api::cuFuncGetName(c, name, reinterpret_cast<CUfunction>(kernel));
}

CUresult api::cuKernelGetParamInfo(Client& c, CUkernel kernel, size_t index, size_t* offset, size_t* size) {
  return api::cuFuncGetParamInfo(c, reinterpret_cast<CUfunction>(kernel), index, offset, size);
}

// Lazy unless CUDA_MODULE_LOADING=EAGER, as with the real driver.
CUresult api::cuModuleGetLoadingMode(CUmoduleLoadingMode* mode) {
  if (!mode) return CUDA_ERROR_INVALID_VALUE;
  const char* setting = std::getenv("CUDA_MODULE_LOADING");
  *mode = setting && std::strcmp(setting, "EAGER") == 0 ? CU_MODULE_EAGER_LOADING : CU_MODULE_LAZY_LOADING;
  return CUDA_SUCCESS;
}
