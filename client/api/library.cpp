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
RRTO_EXPORT CUresult cuLibraryLoadData(CUlibrary* library, const void* code, CUjit_option*, void**, unsigned int,
                                       CUlibraryOption*, void**, unsigned int) {
  RRTO_ENTER(cuLibraryLoadData);
  return load_module(c, reinterpret_cast<CUmodule*>(library), code);
}

RRTO_EXPORT CUresult cuLibraryUnload(CUlibrary library) {
  RRTO_ENTER(cuLibraryUnload);
  return unload_module(c, as_module(library));
}

RRTO_EXPORT CUresult cuLibraryGetModule(CUmodule* module, CUlibrary library) {
  RRTO_ENTER(cuLibraryGetModule);
  if (!module) return CUDA_ERROR_INVALID_VALUE;
  std::lock_guard lock(c.mutex);
  if (!c.modules.find(library)) return CUDA_ERROR_INVALID_HANDLE;
  *module = as_module(library);
  return CUDA_SUCCESS;
}

RRTO_EXPORT CUresult cuLibraryGetKernel(CUkernel* kernel, CUlibrary library, const char* name) {
  RRTO_ENTER(cuLibraryGetKernel);
  return get_function(c, reinterpret_cast<CUfunction*>(kernel), as_module(library), name);
}

RRTO_EXPORT CUresult cuLibraryGetKernelCount(unsigned int* count, CUlibrary library) {
  RRTO_ENTER(cuLibraryGetKernelCount);
  if (!count) return CUDA_ERROR_INVALID_VALUE;
  std::lock_guard lock(c.mutex);
  const Module* m = c.modules.find(library);
  if (!m) return CUDA_ERROR_INVALID_HANDLE;
  *count = static_cast<unsigned>(m->image.kernels.size());
  return CUDA_SUCCESS;
}

RRTO_EXPORT CUresult cuLibraryEnumerateKernels(CUkernel* kernels, unsigned int count, CUlibrary library) {
  RRTO_ENTER(cuLibraryEnumerateKernels);
  if (!kernels) return CUDA_ERROR_INVALID_VALUE;
  std::vector<std::string> names;
  {
    std::lock_guard lock(c.mutex);
    const Module* m = c.modules.find(library);
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

RRTO_EXPORT CUresult cuLibraryGetGlobal(CUdeviceptr* dptr, size_t* bytes, CUlibrary library, const char* name) {
  RRTO_ENTER(cuLibraryGetGlobal);
  return get_global(c, dptr, bytes, as_module(library), name);
}

RRTO_EXPORT CUresult cuKernelGetFunction(CUfunction* function, CUkernel kernel) {
  RRTO_ENTER(cuKernelGetFunction);
  if (!function) return CUDA_ERROR_INVALID_VALUE;
  std::lock_guard lock(c.mutex);
  if (!c.functions.find(kernel)) return CUDA_ERROR_INVALID_HANDLE;
  *function = reinterpret_cast<CUfunction>(kernel);
  return CUDA_SUCCESS;
}

RRTO_EXPORT CUresult cuKernelGetAttribute(int* value, CUfunction_attribute attribute, CUkernel kernel, CUdevice dev) {
  RRTO_ENTER(cuKernelGetAttribute);
  if (!valid_device(dev)) return CUDA_ERROR_INVALID_DEVICE;
  return function_attribute(c, value, attribute, reinterpret_cast<CUfunction>(kernel));
}

RRTO_EXPORT CUresult cuKernelSetAttribute(CUfunction_attribute attribute, int value, CUkernel kernel, CUdevice dev) {
  RRTO_ENTER(cuKernelSetAttribute);
  if (!valid_device(dev)) return CUDA_ERROR_INVALID_DEVICE;
  return set_function_attribute(c, reinterpret_cast<CUfunction>(kernel), attribute, value);
}

RRTO_EXPORT CUresult cuKernelSetCacheConfig(CUkernel kernel, CUfunc_cache config, CUdevice dev) {
  RRTO_ENTER(cuKernelSetCacheConfig);
  if (!valid_device(dev)) return CUDA_ERROR_INVALID_DEVICE;
  return set_function_cache_config(c, reinterpret_cast<CUfunction>(kernel), config);
}

RRTO_EXPORT CUresult cuKernelGetName(const char** name, CUkernel kernel) {
  RRTO_ENTER(cuKernelGetName);
  if (!name) return CUDA_ERROR_INVALID_VALUE;
  std::lock_guard lock(c.mutex);
  const Function* function = c.functions.find(kernel);
  if (!function) return CUDA_ERROR_INVALID_HANDLE;
  *name = function->kernel->name.c_str();
  return CUDA_SUCCESS;
}

RRTO_EXPORT CUresult cuKernelGetParamInfo(CUkernel kernel, size_t index, size_t* offset, size_t* size) {
  RRTO_ENTER(cuKernelGetParamInfo);
  std::lock_guard lock(c.mutex);
  const Function* function = c.functions.find(kernel);
  if (!function) return CUDA_ERROR_INVALID_HANDLE;
  const auto& params = function->kernel->params;
  if (index >= params.size()) return CUDA_ERROR_INVALID_VALUE;
  if (offset) *offset = params[index].offset;
  if (size) *size = params[index].size;
  return CUDA_SUCCESS;
}

// Lazy unless CUDA_MODULE_LOADING=EAGER, as with the real driver.
RRTO_EXPORT CUresult cuModuleGetLoadingMode(CUmoduleLoadingMode* mode) {
  RRTO_COUNT_CALL(cuModuleGetLoadingMode);
  if (!mode) return CUDA_ERROR_INVALID_VALUE;
  const char* setting = std::getenv("CUDA_MODULE_LOADING");
  *mode = setting && std::strcmp(setting, "EAGER") == 0 ? CU_MODULE_EAGER_LOADING : CU_MODULE_LAZY_LOADING;
  return CUDA_SUCCESS;
}
