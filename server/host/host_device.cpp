#include "server/host/host_device.h"

#include "protocol/launch_attributes.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include <fmt/format.h>

#include "common/log.h"
#include "server/host/host_attributes.h"
#include "server/host/host_session.h"
#include "server/range_allocator.h"

namespace rrto::server::host {
namespace {

// CUDA guarantees at least 256-byte alignment for cuMemAlloc.
constexpr uint64_t kAlignment = 256;
constexpr const char* kLog = "server";

struct HostModule {
  std::vector<uint8_t> image;  // kept for inspection; the host cannot run it
};

struct HostStream {
  uint32_t flags = 0;
  int32_t priority = 0;
};

struct HostEvent {
  uint32_t flags = 0;
  bool recorded = false;
  std::chrono::steady_clock::time_point time;
};

template <typename T, typename Handle>
T* object(Handle handle) {
  return static_cast<T*>(handle.ptr);
}


}  // namespace

HostDevice::HostDevice(const HostDeviceOptions& options, std::shared_ptr<const HostKernelRegistry> kernels)
    : kernels_(std::move(kernels)),
      time_model_(options.time_scale_us),
      memory_limit_(options.memory_bytes),
      kernel_time_limit_(options.kernel_time_limit),
      kernel_runner_(options.kernel_runner) {
  describe_host_device(options.index, options.name, options.memory_bytes, description_);
}

HostDevice::~HostDevice() = default;

// ---------------------------------------------------------------- sessions

CUresult HostDevice::open_session(uint64_t session_id, uint64_t window, SessionView& view) {
  uint64_t globals = 0;  // a copy of every global
  if (kernels_)
    for (const auto& library : kernels_->libraries())
      for (const HostGlobal& g : library->globals()) globals += round_up(g.size, kAlignment);
  std::unique_ptr<SessionMemory> memory;
  std::string why;
  if (!ok(SessionMemory::create(window, globals, memory, why))) {
    RRTO_ERROR(kLog, "session {}: {}", session_id, why);
    return CUDA_ERROR_OUT_OF_MEMORY;
  }
  view.own = std::make_unique<HostSessionDevice>(*this, session_id, std::move(memory));
  view.device = view.own.get();
  return CUDA_SUCCESS;
}

uint64_t HostDevice::used_bytes() const { return used_bytes_.load(std::memory_order_relaxed); }

bool HostDevice::reserve(uint64_t bytes) {
  uint64_t used = used_bytes_.load(std::memory_order_relaxed);
  do {
    if (bytes > memory_limit_ - used) return false;
  } while (!used_bytes_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
  return true;
}

void HostDevice::unreserve(uint64_t bytes) { used_bytes_.fetch_sub(bytes, std::memory_order_relaxed); }

CUresult HostDevice::mem_get_info(uint64_t& free, uint64_t& total) const {
  total = memory_limit_;
  free = memory_limit_ - used_bytes();
  return CUDA_SUCCESS;
}

// ---------------------------------------------------------------- modules

CUresult HostDevice::module_load(std::span<const uint8_t> image, ModuleHandle& module, std::string& error) {
  if (image.empty()) {
    error = "empty module image";
    return CUDA_ERROR_INVALID_IMAGE;
  }
  module.ptr = new HostModule{std::vector<uint8_t>(image.begin(), image.end())};
  return CUDA_SUCCESS;
}

CUresult HostDevice::module_unload(ModuleHandle module) {
  delete object<HostModule>(module);
  return CUDA_SUCCESS;
}

CUresult HostDevice::module_get_function(ModuleHandle module, std::string_view name, FunctionHandle& function) {
  // The module image is GPU code; the kernel's CPU version is looked up by
  // name. A kernel without one is still a valid function: only launching it
  // fails, as cudart may look up kernels an application never launches.
  auto* f = new HostFunction;
  f->name = std::string(name);
  for (int32_t a = 0; a < CU_FUNC_ATTRIBUTE_MAX; ++a) host_function_attribute(a, f->attributes[a]);
  if (kernels_) {
    if (!ok(kernels_->lookup(name, f->kernel, f->missing_reason))) f->kernel = nullptr;
  } else {
    f->missing_reason = fmt::format(
        "kernel {} has no CPU version: no host-kernel libraries are configured (host_kernel_libraries)", name);
  }
  function.ptr = f;
  return CUDA_SUCCESS;
}

void HostDevice::function_release(FunctionHandle function) { delete object<HostFunction>(function); }

CUresult HostDevice::function_param_layout(FunctionHandle function, ParamLayout& layout) {
  const HostFunction* f = object<HostFunction>(function);
  if (!f->kernel) return CUDA_ERROR_NOT_SUPPORTED;
  layout.clear();
  for (const HostKernelParam& p : f->kernel->params()) layout.push_back({p.offset, p.size});
  return CUDA_SUCCESS;
}

CUresult HostDevice::function_get_attribute(FunctionHandle function, int32_t attribute, int32_t& value) {
  if (attribute < 0 || attribute >= CU_FUNC_ATTRIBUTE_MAX) return CUDA_ERROR_INVALID_VALUE;
  value = object<HostFunction>(function)->attributes[attribute];
  return CUDA_SUCCESS;
}

CUresult HostDevice::function_set_attribute(FunctionHandle function, int32_t attribute, int32_t value) {
  const int32_t max_shared_optin = description_.attributes[CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN];
  if (!proto::settable_function_attribute(attribute) ||
      !proto::valid_function_attribute_value(attribute, value, max_shared_optin))
    return CUDA_ERROR_INVALID_VALUE;
  object<HostFunction>(function)->attributes[attribute] = value;
  return CUDA_SUCCESS;
}

CUresult HostDevice::function_set_cache_config(FunctionHandle function, int32_t config) {
  object<HostFunction>(function)->cache_config = config;
  return CUDA_SUCCESS;
}

// ---------------------------------------------------------------- streams, events

CUresult HostDevice::stream_create(uint32_t flags, int32_t priority, StreamHandle& stream) {
  stream.ptr = new HostStream{flags, priority};
  return CUDA_SUCCESS;
}

CUresult HostDevice::stream_destroy(StreamHandle stream) {
  delete object<HostStream>(stream);
  return CUDA_SUCCESS;
}

CUresult HostDevice::event_create(uint32_t flags, EventHandle& event) {
  auto* e = new HostEvent;
  e->flags = flags;
  event.ptr = e;
  return CUDA_SUCCESS;
}

CUresult HostDevice::event_destroy(EventHandle event) {
  delete object<HostEvent>(event);
  return CUDA_SUCCESS;
}

CUresult HostDevice::event_record(EventHandle event, StreamHandle) {
  // Everything before it has already run: execution is synchronous.
  HostEvent* e = object<HostEvent>(event);
  e->recorded = true;
  e->time = std::chrono::steady_clock::now();
  return CUDA_SUCCESS;
}

CUresult HostDevice::event_elapsed(EventHandle start, EventHandle end, float& milliseconds) {
  const HostEvent* a = object<HostEvent>(start);
  const HostEvent* b = object<HostEvent>(end);
  if (!a->recorded || !b->recorded) return CUDA_ERROR_INVALID_HANDLE;
  if ((a->flags | b->flags) & CU_EVENT_DISABLE_TIMING) return CUDA_ERROR_INVALID_HANDLE;
  milliseconds = std::chrono::duration<float, std::milli>(b->time - a->time).count();
  return CUDA_SUCCESS;
}

}  // namespace rrto::server::host
