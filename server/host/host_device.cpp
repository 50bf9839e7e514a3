#include "server/host/host_device.h"

#include <sys/mman.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "server/host/host_attributes.h"

namespace rrto::server::host {
namespace {

// CUDA guarantees at least 256-byte alignment for cuMemAlloc.
constexpr uint64_t kAlignment = 256;
// Larger allocations come straight from mmap: zeroed by the kernel and only
// backed by memory once touched.
constexpr uint64_t kMapThreshold = 1ull << 20;

struct HostModule {
  std::vector<uint8_t> image;  // kept for inspection; the host cannot run it
};

struct HostFunction {
  std::string name;
  const HostKernel* kernel = nullptr;  // nullptr: no CPU version
  std::string missing_reason;          // why kernel is nullptr
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

uint64_t round_up(uint64_t n, uint64_t to) { return (n + to - 1) / to * to; }

}  // namespace

HostDevice::HostDevice(const HostDeviceOptions& options, std::shared_ptr<const HostKernelRegistry> kernels)
    : kernels_(std::move(kernels)), time_model_(options.time_scale_us), memory_limit_(options.memory_bytes) {
  describe_host_device(options.index, options.name, options.memory_bytes, description_);
}

HostDevice::~HostDevice() {
  for (auto& [address, bytes] : allocations_) {
    if (bytes >= kMapThreshold)
      munmap(reinterpret_cast<void*>(address), bytes);
    else
      std::free(reinterpret_cast<void*>(address));
  }
}

// ---------------------------------------------------------------- memory

CUresult HostDevice::mem_alloc(uint64_t size, uint64_t& dptr) {
  if (size == 0) return CUDA_ERROR_INVALID_VALUE;
  if (size > memory_limit_) return CUDA_ERROR_OUT_OF_MEMORY;
  const uint64_t bytes = round_up(size, size >= kMapThreshold ? 4096 : kAlignment);
  std::lock_guard lock(memory_mutex_);
  if (bytes > memory_limit_ - used_bytes_) return CUDA_ERROR_OUT_OF_MEMORY;
  void* p = nullptr;
  if (bytes >= kMapThreshold) {
    p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) p = nullptr;
  } else {
    p = std::aligned_alloc(kAlignment, bytes);
    // Freed memory of one session must not show up in another's allocation.
    if (p) std::memset(p, 0, bytes);
  }
  if (!p) return CUDA_ERROR_OUT_OF_MEMORY;
  dptr = reinterpret_cast<uint64_t>(p);
  allocations_.emplace(dptr, bytes);
  used_bytes_ += bytes;
  return CUDA_SUCCESS;
}

CUresult HostDevice::mem_free(uint64_t dptr) {
  std::lock_guard lock(memory_mutex_);
  auto it = allocations_.find(dptr);
  if (it == allocations_.end()) return CUDA_ERROR_INVALID_VALUE;
  const uint64_t bytes = it->second;
  if (bytes >= kMapThreshold)
    munmap(reinterpret_cast<void*>(dptr), bytes);
  else
    std::free(reinterpret_cast<void*>(dptr));
  used_bytes_ -= bytes;
  allocations_.erase(it);
  return CUDA_SUCCESS;
}

CUresult HostDevice::mem_get_info(uint64_t& free, uint64_t& total) {
  std::lock_guard lock(memory_mutex_);
  total = memory_limit_;
  free = memory_limit_ - used_bytes_;
  return CUDA_SUCCESS;
}

uint8_t* HostDevice::host_address(uint64_t dptr, uint64_t size) { return reinterpret_cast<uint8_t*>(dptr); }

CUresult HostDevice::move_memory(std::span<const uint64_t> bases, Device& to, std::string& why) {
  auto* target = dynamic_cast<HostDevice*>(&to);
  if (!target || target == this) {
    why = "not another host device";
    return CUDA_ERROR_NOT_SUPPORTED;
  }
  std::scoped_lock lock(memory_mutex_, target->memory_mutex_);
  uint64_t bytes = 0;
  for (uint64_t base : bases) {
    auto it = allocations_.find(base);
    if (it == allocations_.end()) {
      why = fmt::format("{:#x} is not an allocation of this device", base);
      return CUDA_ERROR_INVALID_VALUE;
    }
    bytes += it->second;
  }
  if (bytes > target->memory_limit_ - target->used_bytes_) {
    why = fmt::format("{} bytes do not fit in the {} bytes free there", bytes,
                      target->memory_limit_ - target->used_bytes_);
    return CUDA_ERROR_OUT_OF_MEMORY;
  }
  for (uint64_t base : bases) {
    auto it = allocations_.find(base);
    target->allocations_.emplace(base, it->second);
    allocations_.erase(it);
  }
  used_bytes_ -= bytes;
  target->used_bytes_ += bytes;
  return CUDA_SUCCESS;
}

CUresult HostDevice::copy_htod(uint64_t dst, const void* src, uint64_t size, StreamHandle) {
  // The payload may already be where it belongs (received in place).
  if (reinterpret_cast<const void*>(dst) != src) std::memcpy(reinterpret_cast<void*>(dst), src, size);
  return CUDA_SUCCESS;
}

CUresult HostDevice::copy_dtoh_for_reply(uint64_t src, uint64_t size, StreamHandle, const uint8_t*& bytes) {
  bytes = reinterpret_cast<const uint8_t*>(src);  // sent straight from device memory
  return CUDA_SUCCESS;
}

CUresult HostDevice::copy_dtod(uint64_t dst, uint64_t src, uint64_t size, StreamHandle) {
  std::memmove(reinterpret_cast<void*>(dst), reinterpret_cast<const void*>(src), size);
  return CUDA_SUCCESS;
}

CUresult HostDevice::memset(uint64_t dst, uint32_t value, uint32_t element_size, uint64_t count, StreamHandle) {
  switch (element_size) {
    case 1: std::memset(reinterpret_cast<void*>(dst), static_cast<uint8_t>(value), count); break;
    case 2: {
      const auto v = static_cast<uint16_t>(value);
      for (uint64_t i = 0; i < count; ++i) std::memcpy(reinterpret_cast<uint8_t*>(dst) + 2 * i, &v, 2);
      break;
    }
    case 4:
      for (uint64_t i = 0; i < count; ++i) std::memcpy(reinterpret_cast<uint8_t*>(dst) + 4 * i, &value, 4);
      break;
    default: return CUDA_ERROR_INVALID_VALUE;
  }
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

CUresult HostDevice::module_get_global(ModuleHandle, std::string_view name, uint64_t& dptr, uint64_t& size) {
  // Globals are the host-kernel libraries' exported data, shared by every
  // module (and session) that names them.
  if (!kernels_) return CUDA_ERROR_NOT_FOUND;
  for (const auto& library : kernels_->libraries()) {
    void* address = nullptr;
    size_t bytes = 0;
    std::string why;
    if (ok(library->find_global(name, address, bytes, why))) {
      dptr = reinterpret_cast<uint64_t>(address);
      size = bytes;
      return CUDA_SUCCESS;
    }
  }
  return CUDA_ERROR_NOT_FOUND;
}

CUresult HostDevice::function_get_attribute(FunctionHandle, int32_t attribute, int32_t& value) {
  return host_function_attribute(attribute, value) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult HostDevice::launch(FunctionHandle function, const LaunchGeometry& geometry, StreamHandle,
                            std::span<const uint8_t> params, const ParamLayout&, std::string& error) {
  const HostFunction* f = object<HostFunction>(function);
  if (!f->kernel) {
    error = f->missing_reason.empty() ? fmt::format("kernel {} has no CPU version", f->name) : f->missing_reason;
    return CUDA_ERROR_NOT_FOUND;
  }
  // The plug-in's layout is the one the session confirmed, so the packed form
  // reads each parameter where the client put it.
  const HostDim3 grid{geometry.grid[0], geometry.grid[1], geometry.grid[2]};
  const HostDim3 block{geometry.block[0], geometry.block[1], geometry.block[2]};
  const auto began = std::chrono::steady_clock::now();
  const Status s = f->kernel->launch(grid, block, params.data(), params.size(), &error);
  if (!ok(s)) return s == Status::InvalidArgument ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_LAUNCH_FAILED;
  if (time_model_.enabled()) {
    const uint64_t blocks = uint64_t{grid.x} * grid.y * grid.z;
    std::this_thread::sleep_for(time_model_.remaining_hold(blocks, std::chrono::steady_clock::now() - began));
  }
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
