// cuGetProcAddress: how cudart reaches the driver. It looks up only
// cuGetProcAddress_v2 with dlsym, then asks for every other entry point by
// (name, CUDA version, flags), all before cuInit. The generated table says
// which exported symbol that means; this library exports every one, those it
// does not implement (client/api/implemented.txt is the list of those it
// does) answering CUDA_ERROR_NOT_SUPPORTED. Nothing here needs the server.
#include <dlfcn.h>

#include "client/api/api.h"
#include "client/proc_address/proc_address_table.h"

using namespace rrto::client;

namespace {

struct OwnLibrary {
  void* handle = nullptr;
  void* base = nullptr;
};

OwnLibrary own_library() {
  OwnLibrary self;
  Dl_info info{};
  if (!dladdr(reinterpret_cast<void*>(&own_library), &info) || !info.dli_fname) return self;
  self.handle = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
  self.base = info.dli_fbase;
  return self;
}

// This library's definition of `symbol`, or nullptr.
void* own_export(const char* symbol) {
  static const OwnLibrary self = own_library();
  if (!self.handle) return nullptr;
  void* f = dlsym(self.handle, symbol);
  // dlsym also searches our dependencies; only our own definitions count.
  Dl_info info{};
  if (!f || !dladdr(f, &info) || info.dli_fbase != self.base) return nullptr;
  return f;
}

constexpr cuuint64_t kKnownFlags = CU_GET_PROC_ADDRESS_LEGACY_STREAM | CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM;

CUresult get_proc_address(const char* symbol, void** pfn, int cuda_version, cuuint64_t flags,
                          CUdriverProcAddressQueryResult* status) {
  if (!symbol || !pfn || (flags & ~kKnownFlags)) return CUDA_ERROR_INVALID_VALUE;
  const bool per_thread = flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM;
  const ProcLookup found = find_proc_variant(symbol, cuda_version, per_thread);
  *pfn = found.status == ProcStatus::Found ? own_export(found.symbol) : nullptr;
  if (*pfn) {
    if (status) *status = CU_GET_PROC_ADDRESS_SUCCESS;
    if (rrto::log::enabled(rrto::log::Level::Debug) && api::is_unsupported_entry_point(found.symbol))
      RRTO_DEBUG("client", "cuGetProcAddress: {} ({}@{}) is not implemented, it answers CUDA_ERROR_NOT_SUPPORTED",
                 found.symbol, symbol, cuda_version);
    return CUDA_SUCCESS;
  }
  if (status)
    *status = found.status == ProcStatus::VersionNotSufficient ? CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT
                                                               : CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
  if (found.status == ProcStatus::Found)
    RRTO_ERROR("client", "cuGetProcAddress: {} ({}@{}) is in the table but not exported", found.symbol, symbol,
               cuda_version);
  else
    RRTO_DEBUG("client", "cuGetProcAddress: {}@{}: {}", symbol, cuda_version,
               found.status == ProcStatus::VersionNotSufficient ? "only in later versions" : "no such entry point");
  return CUDA_ERROR_NOT_FOUND;
}

}  // namespace

CUresult api::cuGetProcAddress(const char* symbol, void** pfn, int cuda_version, cuuint64_t flags) {
  return get_proc_address(symbol, pfn, cuda_version, flags, nullptr);
}

CUresult api::cuGetProcAddress_v2(const char* symbol, void** pfn, int cuda_version, cuuint64_t flags,
                                  CUdriverProcAddressQueryResult* status) {
  return get_proc_address(symbol, pfn, cuda_version, flags, status);
}
