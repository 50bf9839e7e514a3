#include "server/host/host_session.h"

#include <chrono>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "common/log.h"
#include "module_image/module_image.h"
#include "protocol/launch_attributes.h"
#include "server/host/host_attributes.h"
#include "server/host/host_device.h"

namespace rrto::server::host {
namespace {

namespace kc = kernel_channel;
constexpr const char* kLog = "server";
// A queue this long goes to the kernel process without waiting for a reason.
constexpr size_t kMaxQueuedBytes = 1u << 20;

template <typename T>
void append(std::vector<uint8_t>& out, const T& value) {
  const auto* p = reinterpret_cast<const uint8_t*>(&value);
  out.insert(out.end(), p, p + sizeof value);
}

}  // namespace

HostSessionDevice::HostSessionDevice(HostDevice& device, uint64_t session_id, std::unique_ptr<SessionMemory> memory)
    : device_(&device), session_id_(session_id), memory_(std::move(memory)) {
  // A copy of every registered global, from the start: kernels may change
  // one before the client first asks for it. The server never runs kernels,
  // so its own copy still holds the initial value. (The memory was sized for
  // them.)
  if (!device_->kernels_) return;
  const auto& libraries = device_->kernels_->libraries();
  for (uint32_t l = 0; l < libraries.size(); ++l) {
    const std::vector<HostGlobal>& globals = libraries[l]->globals();
    for (uint32_t g = 0; g < globals.size(); ++g) {
      uint64_t copy = 0;
      if (!memory_->allocate_global(globals[g].size, copy)) break;
      std::memcpy(reinterpret_cast<void*>(copy), globals[g].address, globals[g].size);
      global_copies_.emplace(std::pair{l, g}, copy);
      new_bindings_.push_back({.library = l, .index = g, .copy = copy});
    }
  }
}

HostSessionDevice::~HostSessionDevice() {
  process_.reset();  // before the memory it maps
}


// ---------------------------------------------------------------- memory

CUresult HostSessionDevice::mem_alloc(uint64_t size, uint64_t, uint64_t at, uint64_t& dptr) {
  if (size == 0) return CUDA_ERROR_INVALID_VALUE;
  uint64_t reserved = 0;
  if (!memory_->allocate(size, at, dptr, reserved)) return at ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_OUT_OF_MEMORY;
  if (!device_->reserve(reserved)) {
    memory_->release(dptr);
    return CUDA_ERROR_OUT_OF_MEMORY;
  }
  return CUDA_SUCCESS;
}

CUresult HostSessionDevice::mem_free(uint64_t dptr) {
  // Queued kernels may still use it; it is freed even when they fail.
  const CUresult ran = run_queued();
  const uint64_t bytes = memory_->release(dptr);
  if (bytes == 0) return CUDA_ERROR_INVALID_VALUE;
  device_->unreserve(bytes);
  return ran;
}

CUresult HostSessionDevice::mem_get_info(uint64_t& free, uint64_t& total) { return device_->mem_get_info(free, total); }

CUresult HostSessionDevice::copy_htod(uint64_t dst, const void* src, uint64_t size, StreamHandle) {
  if (CUresult r = run_queued()) return r;
  // The payload may already be where it belongs (received in place).
  if (reinterpret_cast<const void*>(dst) != src) std::memcpy(reinterpret_cast<void*>(dst), src, size);
  return CUDA_SUCCESS;
}

CUresult HostSessionDevice::copy_dtoh_for_reply(uint64_t src, uint64_t, StreamHandle, const uint8_t*& bytes) {
  if (CUresult r = run_queued()) return r;
  bytes = reinterpret_cast<const uint8_t*>(src);  // sent straight from session memory
  return CUDA_SUCCESS;
}

CUresult HostSessionDevice::copy_dtod(uint64_t dst, uint64_t src, uint64_t size, StreamHandle) {
  if (CUresult r = run_queued()) return r;
  std::memmove(reinterpret_cast<void*>(dst), reinterpret_cast<const void*>(src), size);
  return CUDA_SUCCESS;
}

namespace {

// `count` elements of `element_size` (1, 2 or 4) bytes from p.
bool fill(uint8_t* p, uint32_t value, uint32_t element_size, uint64_t count) {
  switch (element_size) {
    case 1: std::memset(p, static_cast<uint8_t>(value), count); return true;
    case 2: {
      const auto v = static_cast<uint16_t>(value);
      for (uint64_t i = 0; i < count; ++i) std::memcpy(p + 2 * i, &v, 2);
      return true;
    }
    case 4:
      for (uint64_t i = 0; i < count; ++i) std::memcpy(p + 4 * i, &value, 4);
      return true;
    default: return false;
  }
}

}  // namespace

CUresult HostSessionDevice::memset(uint64_t dst, uint32_t value, uint32_t element_size, uint64_t count,
                                   StreamHandle) {
  if (CUresult r = run_queued()) return r;
  return fill(reinterpret_cast<uint8_t*>(dst), value, element_size, count) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult HostSessionDevice::copy_htod_2d(uint64_t dst, uint64_t dst_pitch, const void* rows, uint64_t width,
                                         uint64_t height, StreamHandle) {
  if (CUresult r = run_queued()) return r;
  const auto* from = static_cast<const uint8_t*>(rows);
  for (uint64_t y = 0; y < height; ++y) std::memcpy(reinterpret_cast<void*>(dst + y * dst_pitch), from + y * width, width);
  return CUDA_SUCCESS;
}

CUresult HostSessionDevice::copy_dtoh_2d_for_reply(uint64_t src, uint64_t src_pitch, uint64_t width, uint64_t height,
                                                   StreamHandle, const uint8_t*& bytes) {
  if (CUresult r = run_queued()) return r;
  gathered_rows_.resize(width * height);
  for (uint64_t y = 0; y < height; ++y)
    std::memcpy(gathered_rows_.data() + y * width, reinterpret_cast<const void*>(src + y * src_pitch), width);
  bytes = gathered_rows_.data();
  return CUDA_SUCCESS;
}

CUresult HostSessionDevice::copy_dtod_2d(uint64_t dst, uint64_t dst_pitch, uint64_t src, uint64_t src_pitch,
                                         uint64_t width, uint64_t height, StreamHandle) {
  if (CUresult r = run_queued()) return r;
  for (uint64_t y = 0; y < height; ++y)
    std::memmove(reinterpret_cast<void*>(dst + y * dst_pitch), reinterpret_cast<const void*>(src + y * src_pitch),
                 width);
  return CUDA_SUCCESS;
}

CUresult HostSessionDevice::memset_2d(uint64_t dst, uint64_t pitch, uint32_t value, uint32_t element_size,
                                      uint64_t width, uint64_t height, StreamHandle) {
  if (CUresult r = run_queued()) return r;
  for (uint64_t y = 0; y < height; ++y) {
    if (!fill(reinterpret_cast<uint8_t*>(dst + y * pitch), value, element_size, width)) return CUDA_ERROR_INVALID_VALUE;
  }
  return CUDA_SUCCESS;
}

// ---------------------------------------------------------------- modules

CUresult HostSessionDevice::module_load(std::span<const uint8_t> image, ModuleHandle& module, std::string& error) {
  if (CUresult r = device_->module_load(image, module, error)) return r;
  if (CUresult r = allocate_module_globals(module, image, error)) {
    device_->module_unload(module);
    return r;
  }
  return CUDA_SUCCESS;
}

CUresult HostSessionDevice::module_unload(ModuleHandle module) {
  free_module_globals(module);
  return device_->module_unload(module);
}

CUresult HostSessionDevice::allocate_module_globals(ModuleHandle module, std::span<const uint8_t> image,
                                                    std::string& error) {
  ModuleImage parsed;
  if (const Status st = parse_module_image(image.data(), image.size(), parsed); !ok(st)) {
    RRTO_DEBUG(kLog, "session {}: the module image does not parse ({}); its globals come from host-kernel libraries",
               session_id_, status_name(st));
    return CUDA_SUCCESS;
  }
  ModuleGlobals& globals = module_globals_[module.ptr];
  for (const GlobalInfo& g : parsed.globals) {
    // The CPU kernels read the libraries' copy of a variable they register.
    if (g.size == 0 || registered_global(g.name)) continue;
    uint64_t dptr = 0, reserved = 0;
    // The size is the image's word: bounded before it is rounded up.
    const bool placed = g.size <= memory_->size() && memory_->allocate_from_top(g.size, dptr, reserved);
    if (!placed || !device_->reserve(reserved)) {
      if (placed) memory_->release(dptr);
      error = fmt::format("global {} of {} bytes does not fit in the device's memory", g.name, g.size);
      free_module_globals(module);
      return CUDA_ERROR_OUT_OF_MEMORY;
    }
    if (!g.initial.empty()) std::memcpy(reinterpret_cast<void*>(dptr), g.initial.data(), g.size);
    globals.emplace(g.name, ModuleGlobal{dptr, g.size});
  }
  RRTO_DEBUG(kLog, "session {}: module {} has {} globals", session_id_, fmt::ptr(module.ptr), globals.size());
  return CUDA_SUCCESS;
}

uint64_t HostSessionDevice::module_memory_bytes(ModuleHandle module) const {
  const auto globals = module_globals_.find(module.ptr);
  if (globals == module_globals_.end()) return 0;
  uint64_t bytes = 0;
  for (const auto& [name, g] : globals->second) bytes += memory_->reserved(g.dptr);
  return bytes;
}

bool HostSessionDevice::registered_global(std::string_view name) const {
  HostKernelRegistry::Position at;
  return device_->kernels_ && ok(device_->kernels_->find_global(name, at));
}

void HostSessionDevice::free_module_globals(ModuleHandle module) {
  const auto it = module_globals_.find(module.ptr);
  if (it == module_globals_.end()) return;
  for (const auto& [name, g] : it->second) mem_free(g.dptr);
  module_globals_.erase(it);
}
CUresult HostSessionDevice::module_get_function(ModuleHandle module, std::string_view name, FunctionHandle& function) {
  return device_->module_get_function(module, name, function);
}
CUresult HostSessionDevice::function_param_layout(FunctionHandle function, ParamLayout& layout) {
  return device_->function_param_layout(function, layout);
}
void HostSessionDevice::function_release(FunctionHandle function) { device_->function_release(function); }
CUresult HostSessionDevice::function_get_attribute(FunctionHandle function, int32_t attribute, int32_t& value) {
  return device_->function_get_attribute(function, attribute, value);
}
CUresult HostSessionDevice::function_set_attribute(FunctionHandle function, int32_t attribute, int32_t value) {
  return device_->function_set_attribute(function, attribute, value);
}
CUresult HostSessionDevice::function_set_cache_config(FunctionHandle function, int32_t config) {
  return device_->function_set_cache_config(function, config);
}

CUresult HostSessionDevice::module_get_global(ModuleHandle module, std::string_view name, uint64_t& dptr,
                                              uint64_t& size) {
  // A variable the libraries register is the one their CPU kernels read: the
  // session's copy of it. The image's other variables are the module's own.
  HostKernelRegistry::Position at;
  if (device_->kernels_ && ok(device_->kernels_->find_global(name, at))) {
    const auto copy = global_copies_.find({at.library, at.index});
    if (copy == global_copies_.end()) return CUDA_ERROR_OUT_OF_MEMORY;
    dptr = copy->second;
    size = device_->kernels_->global_at(at)->size;
    return CUDA_SUCCESS;
  }
  const auto globals = module_globals_.find(module.ptr);
  if (globals == module_globals_.end()) return CUDA_ERROR_NOT_FOUND;
  const auto g = globals->second.find(name);
  if (g == globals->second.end()) return CUDA_ERROR_NOT_FOUND;
  dptr = g->second.dptr;
  size = g->second.size;
  return CUDA_SUCCESS;
}

// ---------------------------------------------------------------- launches

CUresult HostSessionDevice::check_pointers(const HostFunction& f, std::span<const uint8_t> params,
                                           std::string& error) const {
  for (const uint32_t i : f.kernel->pointer_params()) {
    uint64_t p = 0;
    std::memcpy(&p, params.data() + f.kernel->params()[i].offset, sizeof p);
    if (p == 0 || memory_->contains(p, 0)) continue;  // null: an optional pointer
    error = fmt::format("launch of kernel {}: pointer argument {} ({:#x}) is not in this session's memory", f.name,
                        i, p);
    return CUDA_ERROR_INVALID_VALUE;
  }
  return CUDA_SUCCESS;
}

// Blocks run one after the other on one CPU thread, so no launch setting
// changes what a kernel computes: a cluster, a priority, programmatic
// serialization and a carveout are checked and otherwise ignored. A
// cooperative launch's blocks would all be resident at once on a GPU: its
// grid must fit the device as a GPU's must (host kernels cannot synchronise
// their grid anyway).
CUresult HostSessionDevice::check_launch_settings(const HostFunction& f, const LaunchGeometry& geometry,
                                                  std::string& error) const {
  const int32_t max_dynamic = f.attributes[CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES];
  if (geometry.shared_mem > static_cast<uint32_t>(max_dynamic)) {
    error = fmt::format("launch of kernel {}: {} bytes of dynamic shared memory, more than its {} "
                        "(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES)",
                        f.name, geometry.shared_mem, max_dynamic);
    return CUDA_ERROR_INVALID_VALUE;
  }
  const LaunchAttributes& a = geometry.attributes;
  if (proto::has(a, CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION)) {
    const uint64_t blocks = uint64_t{a.cluster[0]} * a.cluster[1] * a.cluster[2];
    const bool non_portable = f.attributes[CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED] != 0;
    if (blocks > (non_portable ? kMaxNonPortableClusterBlocks : kMaxPortableClusterBlocks)) {
      error = fmt::format("launch of kernel {}: a cluster of {} blocks is more than the device allows", f.name, blocks);
      return CUDA_ERROR_INVALID_CLUSTER_SIZE;
    }
  }
  if (proto::has(a, CU_LAUNCH_ATTRIBUTE_COOPERATIVE) && a.cooperative) {
    const uint64_t blocks = uint64_t{geometry.grid[0]} * geometry.grid[1] * geometry.grid[2];
    const uint64_t resident = host_resident_blocks(geometry.block[0] * geometry.block[1] * geometry.block[2],
                                                   geometry.shared_mem);
    if (blocks > resident) {
      error = fmt::format("cooperative launch of kernel {}: {} blocks, more than the {} the device holds at once",
                          f.name, blocks, resident);
      return CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE;
    }
  }
  return CUDA_SUCCESS;
}

CUresult HostSessionDevice::launch(FunctionHandle function, const LaunchGeometry& geometry, StreamHandle,
                                   std::span<const uint8_t> params, const ParamLayout&, std::string& error) {
  if (failed_) return failed_;
  const auto& f = *static_cast<const HostFunction*>(function.ptr);
  if (!f.kernel) {
    error = f.missing_reason.empty() ? fmt::format("kernel {} has no CPU version", f.name) : f.missing_reason;
    return CUDA_ERROR_NOT_FOUND;
  }
  const HostDim3 grid{geometry.grid[0], geometry.grid[1], geometry.grid[2]};
  const HostDim3 block{geometry.block[0], geometry.block[1], geometry.block[2]};
  if (!ok(f.kernel->check_geometry(grid, block, &error)) || !ok(f.kernel->check_buffer(params.data(), params.size(), &error)))
    return CUDA_ERROR_INVALID_VALUE;
  if (CUresult r = check_launch_settings(f, geometry, error)) return r;
  if (CUresult r = check_pointers(f, params, error)) return r;
  HostKernelRegistry::Position at;
  if (!device_->kernels_->position_of(*f.kernel, at)) return CUDA_ERROR_NOT_FOUND;
  kc::LaunchRecord record{.library = at.library, .kernel = at.index, .grid = {grid.x, grid.y, grid.z},
                          .block = {block.x, block.y, block.z}, .param_bytes = static_cast<uint32_t>(params.size())};
  append(queued_, record);
  queued_.insert(queued_.end(), params.begin(), params.end());
  queued_.resize(queued_.size() + kc::padded(record.param_bytes) - record.param_bytes);
  ++queued_launches_;
  queued_blocks_ += uint64_t{grid.x} * grid.y * grid.z;
  return queued_.size() < kMaxQueuedBytes ? CUDA_SUCCESS : run_queued();
}

CUresult HostSessionDevice::start_process() {
  std::vector<std::string> libraries;
  for (const auto& library : device_->kernels_->libraries()) libraries.push_back(library->path());
  std::string why;
  if (device_->stopping_.load(std::memory_order_relaxed))
    return fail_run(CUDA_ERROR_LAUNCH_FAILED, "the server is stopping");
  if (!ok(KernelProcess::start(device_->kernel_runner_, libraries, *memory_, process_, why))) {
    RRTO_ERROR(kLog, "session {}: {}", session_id_, why);
    return CUDA_ERROR_OPERATING_SYSTEM;
  }
  return CUDA_SUCCESS;
}

CUresult HostSessionDevice::fail_run(CUresult code, const std::string& why) {
  RRTO_WARN(kLog, "session {}: {}; the session's later calls fail with {}", session_id_, why,
            code == CUDA_ERROR_LAUNCH_TIMEOUT ? "CUDA_ERROR_LAUNCH_TIMEOUT" : "CUDA_ERROR_LAUNCH_FAILED");
  failed_ = code;
  failure_ = why;
  process_.reset();  // killed and reaped
  return code;
}

CUresult HostSessionDevice::run_queued() {
  if (failed_) return failed_;
  if (queued_launches_ == 0) return CUDA_SUCCESS;
  if (!process_) {
    if (CUresult r = start_process()) return r;
  }
  message_.clear();
  append(message_, kc::RunHeader{.bindings = static_cast<uint32_t>(new_bindings_.size()), .launches = queued_launches_,
                                 .body_bytes = static_cast<uint32_t>(new_bindings_.size() * sizeof(kc::GlobalBinding) +
                                                                     queued_.size())});
  for (const kc::GlobalBinding& b : new_bindings_) append(message_, b);
  message_.insert(message_.end(), queued_.begin(), queued_.end());
  const uint32_t launches = queued_launches_;
  const uint64_t blocks = queued_blocks_;
  new_bindings_.clear();
  queued_.clear();
  queued_launches_ = 0;
  queued_blocks_ = 0;

  const auto began = std::chrono::steady_clock::now();
  kc::RunResult result;
  std::string why;
  switch (process_->run(message_, launches, device_->kernel_time_limit_, *memory_, device_->stopping_, result, why)) {
    case KernelProcess::Outcome::TimedOut:
      return fail_run(CUDA_ERROR_LAUNCH_TIMEOUT,
                      fmt::format("a kernel ran past the time limit of {} ms", device_->kernel_time_limit_.count()));
    case KernelProcess::Outcome::Died: return fail_run(CUDA_ERROR_LAUNCH_FAILED, "a kernel ended its kernel process");
    case KernelProcess::Outcome::Abandoned: return fail_run(CUDA_ERROR_LAUNCH_FAILED, "the server is stopping");
    case KernelProcess::Outcome::Done: break;
  }
  if (result.status != static_cast<int32_t>(Status::Ok)) return fail_run(CUDA_ERROR_LAUNCH_FAILED, why);
  if (device_->time_model_.enabled())
    std::this_thread::sleep_for(device_->time_model_.remaining_hold(blocks, std::chrono::steady_clock::now() - began));
  return CUDA_SUCCESS;
}

// ---------------------------------------------------------------- streams, events

CUresult HostSessionDevice::stream_create(uint32_t flags, int32_t priority, StreamHandle& stream) {
  return device_->stream_create(flags, priority, stream);
}
CUresult HostSessionDevice::stream_destroy(StreamHandle stream) { return device_->stream_destroy(stream); }
CUresult HostSessionDevice::event_create(uint32_t flags, EventHandle& event) {
  return device_->event_create(flags, event);
}
CUresult HostSessionDevice::event_destroy(EventHandle event) { return device_->event_destroy(event); }

CUresult HostSessionDevice::event_record(EventHandle event, StreamHandle stream) {
  if (CUresult r = run_queued()) return r;
  return device_->event_record(event, stream);
}

CUresult HostSessionDevice::move_memory(std::span<const uint64_t> bases, Device& to, std::string& why) {
  auto* target = dynamic_cast<HostDevice*>(&to);
  if (!target || target == device_) {
    why = "not another host device";
    return CUDA_ERROR_NOT_SUPPORTED;
  }
  // The memory stays where it is, mapped in the kernel process too: only
  // the accounting moves.
  std::vector<uint64_t> all(bases.begin(), bases.end());
  for (const auto& [module, globals] : module_globals_)
    for (const auto& [name, g] : globals) all.push_back(g.dptr);
  uint64_t bytes = 0;
  for (uint64_t base : all) {
    const uint64_t reserved = memory_->reserved(base);
    if (reserved == 0) {
      why = fmt::format("{:#x} is not an allocation of this session", base);
      return CUDA_ERROR_INVALID_VALUE;
    }
    bytes += reserved;
  }
  if (!target->reserve(bytes)) {
    why = fmt::format("{} bytes do not fit in what is free there", bytes);
    return CUDA_ERROR_OUT_OF_MEMORY;
  }
  device_->unreserve(bytes);
  device_ = target;
  return CUDA_SUCCESS;
}

CUresult HostSessionDevice::event_elapsed(EventHandle start, EventHandle end, float& milliseconds) {
  return device_->event_elapsed(start, end, milliseconds);
}

}  // namespace rrto::server::host
