// Shared by the files that implement the entry points. Each implementation is
// a thin adapter: check arguments, take the client lock, act. The exported
// functions that call them, and their declarations, are generated from
// client/api/implemented.txt (client/gen/gen_entry_points.py).
#pragma once

#define __CUDA_API_VERSION_INTERNAL 1  // declares every versioned name, so prototypes are checked
#include <cuda.h>

#include "client/client.h"
#include "client/generated/entry_points.h"
#include "common/log.h"

// Logs, once per entry point, that a feature of it is not implemented.
#define RRTO_NOT_SUPPORTED(name, what)                                                              \
  do {                                                                                              \
    static std::once_flag rrto_once_;                                                               \
    std::call_once(rrto_once_, [] { RRTO_WARN("client", "{}: {} is not supported", #name, what); }); \
    return CUDA_ERROR_NOT_SUPPORTED;                                                                \
  } while (0)

namespace rrto::client {

// What every exported entry point the library does not implement does
// (client/api/unsupported.cpp); `calls` counts its calls for RRTO_STATS.
CUresult unsupported_entry_point(const char* symbol, std::atomic<uint64_t>& calls);

inline bool has_current_context() { return !context_stack().empty(); }

// Sends what is queued and, unless nothing on `stream` can still be
// running, waits for the stream on the server.
// The lock must be held.
CUresult synchronize_stream(ClientState& state, uint64_t stream);
CUresult synchronize_context(ClientState& state);

// cuMemAlloc and cuMemFree, for the entry points built on them.
CUresult alloc_device(Client& c, CUdeviceptr* dptr, size_t size);
CUresult free_device(Client& c, CUdeviceptr dptr);

// The same, the lock held: for allocations the client makes itself (the
// shadows of mapped host memory).
CUresult allocate_on_device(ClientState& state, CUdeviceptr* dptr, size_t size);
CUresult free_on_device(ClientState& state, CUdeviceptr dptr);

// cuEventRecord on the stream a call names.
CUresult event_record(Client& c, CUevent e, CUstream s, bool per_thread);

// Async-mode host-to-device copies at least this large are sent at once
// straight from the program's buffer instead of being copied into the queue.
inline constexpr size_t kZeroCopyThreshold = 1 << 20;

// Copies in each direction, as the cuMemcpy* entry points make them; `async`
// says which form the program called (for the recorded operator).
CUresult copy_to_device(Client& c, CUdeviceptr dst, const void* src, size_t size, uint64_t stream, bool async);
CUresult copy_to_host(Client& c, void* dst, CUdeviceptr src, size_t size, uint64_t stream, bool async);
CUresult copy_on_device(Client& c, CUdeviceptr dst, CUdeviceptr src, size_t size, uint64_t stream, bool async);
// cuMemsetD8/16/32 (element_size 1, 2, 4), async or not.
CUresult memset_device(Client& c, CUdeviceptr dst, uint32_t value, uint32_t element_size, size_t count,
                       uint64_t stream, bool async);

// Packs a launch's arguments (kernelParams or the packed `extra` buffer) into
// `buffer` as the kernel lays them out; returns the number of bytes or -1.
long pack_params(const KernelInfo& kernel, void** kernel_params, void** extra, uint8_t* buffer);

// Whether a capture took the operator `call` (recorded it, or refused it as
// CUDA does): `result` is then what the entry point returns.
template <typename Call>
bool taken_by_capture(ClientState& state, const Call& call, bool async, CUresult& result,
                      const void* host_src = nullptr, void* host_dst = nullptr) {
  if (!state.graphs.capturing()) return false;
  switch (state.graphs.take(call, async, host_src, host_dst, result)) {
    case CaptureVerdict::NotCaptured: return false;
    case CaptureVerdict::Recorded: result = CUDA_SUCCESS; return true;
    case CaptureVerdict::Refused: return true;
  }
  return false;
}

// The same for an operator a graph cannot hold (a 2D copy or memset): on a
// capturing stream it fails and invalidates the capture, as a call the
// capture does not allow; elsewhere the capture mode decides as for others.
template <typename Call>
bool refused_by_capture(ClientState& state, const Call& call, bool async, CUresult& result) {
  if (!state.graphs.capturing()) return false;
  const bool on_capturing_stream = state.graphs.capture_of(call.stream) != nullptr;
  return taken_by_capture(state, call, async && !on_capturing_stream, result);
}

// Queued work on `stream`: remembered until a synchronisation covers it.
inline void note_stream_work(ClientState& state, uint64_t stream) { state.unsynced_streams.insert(stream); }

// Device work about to be queued on `stream` that may read mapped host
// memory (a launch, a copy or memset meeting a shadow): the mapped ranges go
// up first (client/mapped_memory.h).
inline CUresult before_mapped_work(ClientState& state, uint64_t stream) {
  return state.mapped.none_mapped() ? CUDA_SUCCESS : upload_mapped_ranges(state, stream);
}
// The program synchronised with `stream` (0: the whole context): what the
// device wrote into mapped ranges comes down.
inline CUresult after_synchronisation(ClientState& state, uint64_t stream) {
  return state.mapped.device_may_have_written() ? download_mapped_ranges(state, stream) : CUDA_SUCCESS;
}

// A stream argument names the legacy stream, a per-thread stream, or one of ours.
inline bool valid_stream(const ClientState& state, CUstream s) {
  const auto h = reinterpret_cast<uint64_t>(s);
  return h == 0 || s == CU_STREAM_LEGACY || s == CU_STREAM_PER_THREAD || state.streams.find(h);
}

// The primary context, created on first use.
uint64_t primary_context(ClientState& state);

// Shared by cuModule* and cuLibrary* (a CUlibrary is a module underneath,
// a CUkernel its function); each takes the lock itself. Loading needs no
// current context (libraries are context-independent); cuModule* check it.
CUresult load_module(Client& c, CUmodule* out, const void* image);
CUresult get_function(Client& c, CUfunction* out, CUmodule hmod, const char* name);
CUresult unload_module(Client& c, CUmodule hmod);
CUresult get_global(Client& c, CUdeviceptr* dptr, size_t* bytes, CUmodule hmod, const char* name);

// A function's attribute; each is asked of the server once, then answered
// locally (client/api/function_attributes.cpp). Takes the lock itself.
CUresult function_attribute(Client& c, int* value, int attribute, CUfunction f);
CUresult set_function_attribute(Client& c, CUfunction f, int attribute, int value);
CUresult set_function_cache_config(Client& c, CUfunction f, CUfunc_cache config);

}  // namespace rrto::client
