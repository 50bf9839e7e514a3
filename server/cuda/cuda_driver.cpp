#include "server/cuda/cuda_driver.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <fmt/format.h>

#include "common/log.h"

namespace rrto::server::cuda {
namespace {

constexpr const char* kLog = "cuda";

// Exported by every NVIDIA driver of the versions we support, and by no
// replacement of ours: RRTO's client implements what applications call, not
// these. One of them present is enough.
constexpr const char* kRealDriverOnlySymbols[] = {"cuDeviceGetNvSciSyncAttributes", "cuFlushGPUDirectRDMAWrites",
                                                  "cuCoredumpGetAttribute"};

std::string real_path(const std::string& path) {
  char resolved[PATH_MAX];
  return realpath(path.c_str(), resolved) ? std::string(resolved) : path;
}

// The folder our build puts binaries and libraries under (build/ for
// build/bin/rrto-server), so that a libcuda.so.1 from there is recognised as
// RRTO's client however it was found.
std::string build_tree() {
  const std::string exe = real_path("/proc/self/exe");
  const auto bin = exe.rfind('/');
  if (bin == std::string::npos || bin == 0) return {};
  const auto tree = exe.rfind('/', bin - 1);
  if (tree == std::string::npos || tree == 0) return {};
  return exe.substr(0, tree + 1);
}

}  // namespace

std::string CudaDriver::error_name(CUresult result) const {
  const char* name = nullptr;
  if (cuGetErrorName && cuGetErrorName(result, &name) == CUDA_SUCCESS && name) return name;
  return fmt::format("CUresult {}", static_cast<int>(result));
}

Status CudaDriver::load(CudaDriver& out, std::string& error) {
  out = CudaDriver{};
  dlerror();
  // Kept loaded for the life of the process: the driver does not support
  // being unloaded.
  void* library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char* why = dlerror();
    error = fmt::format("cannot load the NVIDIA driver libcuda.so.1 ({}); is a GPU driver installed?",
                        why ? why : "not found");
    return Status::NotFound;
  }
  auto get_proc_address = reinterpret_cast<PFN_cuGetProcAddress_v12000>(dlsym(library, "cuGetProcAddress_v2"));
  if (!get_proc_address) {
    error = "libcuda.so.1 has no cuGetProcAddress_v2: the driver is older than CUDA 12, or it is not NVIDIA's";
    return Status::NotSupported;
  }

  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(get_proc_address), &info) && info.dli_fname)
    out.library_path = real_path(info.dli_fname);
  const std::string tree = build_tree();
  const bool from_our_build = !tree.empty() && out.library_path.rfind(tree, 0) == 0;
  bool has_real_driver_symbol = false;
  for (const char* symbol : kRealDriverOnlySymbols) has_real_driver_symbol |= dlsym(library, symbol) != nullptr;
  if (from_our_build || !has_real_driver_symbol) {
    error = fmt::format(
        "libcuda.so.1 resolved to {}, which is {}, not the NVIDIA driver; the cuda backend needs the real driver "
        "(is RRTO's build folder on LD_LIBRARY_PATH?)",
        out.library_path.empty() ? "an unknown file" : out.library_path,
        from_our_build ? "RRTO's own client library" : "a replacement library");
    return Status::InvalidArgument;
  }

  bool missing = false;
  auto resolve = [&](const char* name, void** pfn, int version, bool required) {
    CUdriverProcAddressQueryResult found = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
    const CUresult r = get_proc_address(name, pfn, version, CU_GET_PROC_ADDRESS_LEGACY_STREAM, &found);
    if (r == CUDA_SUCCESS && found == CU_GET_PROC_ADDRESS_SUCCESS && *pfn) return;
    *pfn = nullptr;
    if (r == CUDA_ERROR_STUB_LIBRARY) {
      error = fmt::format("libcuda.so.1 at {} is the CUDA toolkit's stub library, not a driver: no GPU here",
                          out.library_path);
      missing = true;
    } else if (required) {
      error = fmt::format("the NVIDIA driver at {} has no {} (version {})", out.library_path, name, version);
      missing = true;
    } else {
      RRTO_INFO(kLog, "the driver has no {} (version {}); going without it", name, version);
    }
  };
#define RRTO_RESOLVE(name, version) \
  if (!missing) resolve(#name, reinterpret_cast<void**>(&out.name), version, true);
  RRTO_CUDA_DRIVER_FUNCTIONS(RRTO_RESOLVE)
#undef RRTO_RESOLVE
#define RRTO_RESOLVE_OPTIONAL(name, version) \
  if (!missing) resolve(#name, reinterpret_cast<void**>(&out.name), version, false);
  RRTO_CUDA_DRIVER_OPTIONAL_FUNCTIONS(RRTO_RESOLVE_OPTIONAL)
#undef RRTO_RESOLVE_OPTIONAL
  if (missing) return Status::NotSupported;

  if (CUresult r = out.cuInit(0); r != CUDA_SUCCESS) {
    error = fmt::format("cuInit failed with {}: no usable GPU", out.error_name(r));
    return Status::NotFound;
  }
  out.cuDriverGetVersion(&out.driver_version);
  int count = 0;
  if (out.cuDeviceGetCount(&count) != CUDA_SUCCESS || count == 0) {
    error = "the NVIDIA driver sees no GPU";
    return Status::NotFound;
  }
  RRTO_INFO(kLog, "NVIDIA driver {} ({}.{}) from {}, {} GPU(s)", out.driver_version, out.driver_version / 1000,
            out.driver_version % 1000 / 10, out.library_path, count);
  return Status::Ok;
}

}  // namespace rrto::server::cuda
