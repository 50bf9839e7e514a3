// The entry points cuda.h declares that the library does not implement. They
// are exported all the same: programs resolve driver entry points they may
// never call (PyTorch stops at start-up if one of its list is missing), and
// a call that reaches one then fails with an error the program can handle.
#include "client/api/api.h"

namespace rrto::client {

// Lock-free and allocation-free once the entry point has logged: it may be
// called from any thread, at any rate.
CUresult unsupported_entry_point(const char* symbol, std::atomic<uint64_t>& calls) {
  if (!client().initialized()) return CUDA_ERROR_NOT_INITIALIZED;
  if (calls.fetch_add(1, std::memory_order_relaxed) == 0)
    RRTO_ERROR("client", "{} is not supported by RRTO's libcuda.so.1 (CUDA_ERROR_NOT_SUPPORTED)", symbol);
  return CUDA_ERROR_NOT_SUPPORTED;
}

}  // namespace rrto::client
