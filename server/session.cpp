#include "server/session.h"

#include <algorithm>
#include <cstring>

#include "common/log.h"
#include "common/printable.h"
#include "protocol/address_window_layout.h"
#include "protocol/calls.h"
#include "protocol/launch_attributes.h"
#include "server/address_window.h"

namespace rrto::server {
namespace {

constexpr const char* kLog = "server";

std::string format_layout(const ParamLayout& layout) {
  if (layout.empty()) return "(none)";
  std::string text;
  for (const ParamSlot& slot : layout) {
    if (!text.empty()) text += ' ';
    text += fmt::format("({},{})", slot.offset, slot.size);
  }
  return text;
}

// The client sends its layout as u32 (offset, size) pairs.
bool parse_layout(std::span<const uint8_t> bytes, ParamLayout& layout) {
  if (bytes.size() % (2 * sizeof(uint32_t)) != 0) return false;
  layout.resize(bytes.size() / (2 * sizeof(uint32_t)));
  for (size_t i = 0; i < layout.size(); ++i) {
    std::memcpy(&layout[i].offset, bytes.data() + i * 8, 4);
    std::memcpy(&layout[i].size, bytes.data() + i * 8 + 4, 4);
  }
  return true;
}

}  // namespace

Session::Session(uint64_t id, std::string peer_address) : id_(id), peer_address_(std::move(peer_address)) {}

Session::~Session() { release(); }

CUresult Session::admit(Device& device, size_t device_index, uint64_t window, std::string client_name,
                        const SessionLimits& limits) {
  if (CUresult r = device.open_session(id_, window, view_)) return r;
  window_ = window;
  device_ = &device;
  device_index_ = device_index;
  client_name_ = std::move(client_name);
  limits_ = limits;
  templates_.set_byte_limit(limits.template_bytes);
  return CUDA_SUCCESS;
}

CUresult Session::check_handle_room(std::string_view what) {
  const uint64_t held = modules_.size() + functions_.size() + streams_.size() + events_.size();
  if (limits_.handles == 0 || held < limits_.handles) return CUDA_SUCCESS;
  return fail(CUDA_ERROR_OUT_OF_MEMORY, "{}: the session holds {} handles, its limit", what, held);
}

CUresult Session::fail_with(CUresult code, std::string message) {
  // Messages quote what the client sent (kernel and global names, say).
  error_ = printable(message, 1024);
  RRTO_WARN(kLog, "session {}: {}", id_, error_);
  return code;
}

CUresult Session::backend_failed(CUresult code, std::string_view fallback) {
  const std::string& why = view()->failure();
  if (why.empty()) return fail_with(code, std::string(fallback));
  error_ = printable(why, 1024);
  return code;
}

CUresult Session::refuse_after_failure() {
  error_ = sticky_reason_.empty()
               ? std::string("a kernel of this session failed earlier; the session can make no more calls")
               : fmt::format("a kernel of this session failed earlier ({}); the session can make no more calls",
                             sticky_reason_);
  return sticky_;
}

CUresult Session::check_range(std::string_view what, uint64_t p, uint64_t n) {
  if (allocations_.contains(p, n)) return CUDA_SUCCESS;
  return fail(CUDA_ERROR_INVALID_VALUE, "{} [{:#x}, +{}) is not inside one allocation of this session", what, p, n);
}

CUresult Session::resolve_stream(uint64_t id, StreamHandle& stream) {
  if (id == 0) {
    stream = StreamHandle{};
    return CUDA_SUCCESS;
  }
  if (const StreamHandle* known = streams_.find(id)) {
    stream = *known;
    return CUDA_SUCCESS;
  }
  if (id & proto::kPerThreadStreamBit) {
    // A client thread's per-thread default stream, made on first use. Like
    // CUDA's, it synchronises with the legacy default stream (flags 0).
    if (CUresult r = view()->stream_create(0, 0, stream); r != CUDA_SUCCESS)
      return fail(r, "creating the per-thread stream {:#x} failed", id);
    streams_.insert(id, stream);
    return CUDA_SUCCESS;
  }
  return fail(CUDA_ERROR_INVALID_HANDLE, "unknown stream {:#x}", id);
}

CUresult Session::resolve_event(uint64_t id, EventHandle& event) {
  if (const EventHandle* known = events_.find(id)) {
    event = *known;
    return CUDA_SUCCESS;
  }
  return fail(CUDA_ERROR_INVALID_HANDLE, "unknown event {:#x}", id);
}

// ---------------------------------------------------------------- memory

CUresult Session::mem_alloc(uint64_t size, uint64_t at, uint64_t& dptr) {
  if (size == 0) return fail(CUDA_ERROR_INVALID_VALUE, "MemAlloc of 0 bytes");
  if (at != 0 && (at < window_base(window_) || at - window_base(window_) >= kWindowBytes))
    return fail(CUDA_ERROR_INVALID_VALUE, "MemAlloc at {:#x}: outside the session's address window", at);
  const uint64_t limit = limits_.memory_bytes;
  if (limit && (size > limit || memory_bytes() > limit - size))
    return fail(CUDA_ERROR_OUT_OF_MEMORY, "MemAlloc of {} bytes exceeds the session limit of {} bytes ({} in use)",
                size, limit, memory_bytes());
  if (CUresult r = view()->mem_alloc(size, window_, at, dptr)) {
    if (at) return fail(r, "MemAlloc of {} bytes at {:#x} failed: not free in the session's window", size, at);
    return fail(r, "MemAlloc of {} bytes failed", size);
  }
  const bool mapped = at >= proto::reservable_begin(window_) && at < proto::reservable_end(window_);
  if (!allocations_.insert({.base = dptr, .size = size, .kind = AllocationTable::Kind::Allocation, .joins = mapped})) {
    // The device handed out memory this session already holds: a backend bug.
    view()->mem_free(dptr);
    return fail(CUDA_ERROR_UNKNOWN, "device returned an address already in use ({:#x})", dptr);
  }
  return CUDA_SUCCESS;
}

CUresult Session::mem_free(uint64_t dptr) {
  const AllocationTable::Entry* entry = allocations_.find_base(dptr);
  if (!entry || entry->kind != AllocationTable::Kind::Allocation)
    return fail(CUDA_ERROR_INVALID_VALUE, "MemFree of {:#x}: not an allocation of this session", dptr);
  if (CUresult r = view()->mem_free(dptr)) return fail(r, "MemFree of {:#x} failed", dptr);
  allocations_.erase(dptr);
  speculation_.forget(dptr);
  templates_.drop(proto::kAllTemplates);  // they may name the freed memory
  return CUDA_SUCCESS;
}

CUresult Session::mem_get_info(uint64_t& free, uint64_t& total) {
  if (CUresult r = view()->mem_get_info(free, total)) return r;
  if (const uint64_t limit = limits_.memory_bytes) {
    // The session sees its own budget when that is the tighter bound.
    const uint64_t session_free = limit - std::min(limit, memory_bytes());
    free = std::min(free, session_free);
    total = std::min(total, limit);
  }
  return CUDA_SUCCESS;
}

CUresult Session::memcpy_htod(uint64_t dst, std::span<const uint8_t> payload, uint64_t stream) {
  if (payload.empty()) return CUDA_SUCCESS;  // CUDA accepts empty copies whatever the pointer
  if (CUresult r = check_range("MemcpyHtoD destination", dst, payload.size())) return r;
  StreamHandle s;
  if (CUresult r = resolve_stream(stream, s)) return r;
  return view()->copy_htod(dst, payload.data(), payload.size(), s);
}

CUresult Session::memcpy_dtoh(uint64_t src, uint64_t size, uint64_t stream, std::span<const uint8_t>& bytes) {
  bytes = {};
  if (size == 0) return CUDA_SUCCESS;
  if (CUresult r = check_range("MemcpyDtoH source", src, size)) return r;
  StreamHandle s;
  if (CUresult r = resolve_stream(stream, s)) return r;
  const uint8_t* data = nullptr;
  if (CUresult r = view()->copy_dtoh_for_reply(src, size, s, data)) return r;
  bytes = {data, size};
  return CUDA_SUCCESS;
}

CUresult Session::memcpy_dtod(uint64_t dst, uint64_t src, uint64_t size, uint64_t stream) {
  if (size == 0) return CUDA_SUCCESS;
  if (CUresult r = check_range("MemcpyDtoD destination", dst, size)) return r;
  if (CUresult r = check_range("MemcpyDtoD source", src, size)) return r;
  StreamHandle s;
  if (CUresult r = resolve_stream(stream, s)) return r;
  return view()->copy_dtod(dst, src, size, s);
}

CUresult Session::memset(uint64_t dst, uint32_t value, uint32_t element_size, uint64_t count, uint64_t stream) {
  if (element_size != 1 && element_size != 2 && element_size != 4)
    return fail(CUDA_ERROR_INVALID_VALUE, "Memset element size {} (must be 1, 2 or 4)", element_size);
  if (count == 0) return CUDA_SUCCESS;
  if (count > UINT64_MAX / element_size) return fail(CUDA_ERROR_INVALID_VALUE, "Memset count {} overflows", count);
  if (dst % element_size != 0)
    return fail(CUDA_ERROR_INVALID_VALUE, "Memset{} destination {:#x} is misaligned", element_size * 8, dst);
  if (CUresult r = check_range("Memset destination", dst, count * element_size)) return r;
  StreamHandle s;
  if (CUresult r = resolve_stream(stream, s)) return r;
  return view()->memset(dst, value, element_size, count, s);
}

uint8_t* Session::direct_destination(uint64_t dst, uint64_t size) {
  // A session before Hello has no allocations, so nothing lands for it.
  if (size == 0 || !allocations_.contains(dst, size)) return nullptr;
  return view()->host_address(dst, size);
}

CUresult Session::finish_batch() {
  if (!device_) return CUDA_SUCCESS;
  const CUresult r = view()->finish_batch();
  // Once the session has failed, every call has said so already.
  if (!r || sticky_) return r;
  return backend_failed(r, "the batch's queued work failed");
}

// ---------------------------------------------------------------- modules

CUresult Session::module_load(uint64_t module, std::span<const uint8_t> image) {
  if (module == 0 || modules_.find(module))
    return fail(CUDA_ERROR_INVALID_VALUE, "module id {:#x} is null or in use", module);
  if (CUresult r = check_handle_room("ModuleLoad")) return r;
  if (limits_.module_bytes && image.size() > limits_.module_bytes - std::min(limits_.module_bytes, module_bytes_))
    return fail(CUDA_ERROR_OUT_OF_MEMORY, "ModuleLoad of a {}-byte image: the session's modules would pass {} bytes",
                image.size(), limits_.module_bytes);
  ModuleHandle handle;
  std::string why;
  if (CUresult r = view()->module_load(image, handle, why))
    return fail(r, "ModuleLoad of a {}-byte image failed{}{}", image.size(), why.empty() ? "" : ": ", why);
  const uint64_t memory = view()->module_memory_bytes(handle);
  if (const uint64_t limit = limits_.memory_bytes; limit && (memory > limit || memory_bytes() > limit - memory)) {
    view()->module_unload(handle);
    return fail(CUDA_ERROR_OUT_OF_MEMORY,
                "ModuleLoad: the module's variables take {} bytes, past the session limit of {} bytes ({} in use)",
                memory, limit, memory_bytes());
  }
  modules_.insert(module, Module{handle, image.size(), memory});
  module_bytes_ += image.size();
  module_memory_bytes_ += memory;
  return CUDA_SUCCESS;
}

CUresult Session::module_unload(uint64_t module) {
  const Module* loaded = modules_.find(module);
  if (!loaded) return fail(CUDA_ERROR_INVALID_HANDLE, "unknown module {:#x}", module);
  templates_.drop(proto::kAllTemplates);  // they may launch its kernels
  for (auto it = functions_.begin(); it != functions_.end();) {
    if (it->second.module == module) {
      view()->function_release(it->second.handle);
      it = functions_.erase(it);
    } else {
      ++it;
    }
  }
  // Its globals go with it, so later copies to them are refused.
  allocations_.erase_module_globals(module);
  const CUresult r = view()->module_unload(loaded->handle);
  module_bytes_ -= loaded->image_bytes;
  module_memory_bytes_ -= loaded->memory_bytes;
  modules_.erase(module);
  return r;
}

CUresult Session::module_get_function(uint64_t module, uint64_t function, std::string_view name,
                                      std::span<const uint8_t> client_layout_bytes) {
  const Module* loaded = modules_.find(module);
  if (!loaded) return fail(CUDA_ERROR_INVALID_HANDLE, "unknown module {:#x}", module);
  if (function == 0 || functions_.find(function))
    return fail(CUDA_ERROR_INVALID_VALUE, "function id {:#x} is null or in use", function);
  if (CUresult r = check_handle_room("ModuleGetFunction")) return r;
  Function record;
  record.module = module;
  record.name = std::string(name);
  if (!parse_layout(client_layout_bytes, record.layout))
    return fail(CUDA_ERROR_INVALID_VALUE, "kernel {}: parameter layout of {} bytes is not (offset, size) pairs", name,
                client_layout_bytes.size());
  if (CUresult r = view()->module_get_function(loaded->handle, name, record.handle))
    return fail(r, "kernel {} not found in module {:#x}", name, module);

  ParamLayout device_layout;
  const CUresult known = view()->function_param_layout(record.handle, device_layout);
  if (known == CUDA_SUCCESS && device_layout != record.layout) {
    view()->function_release(record.handle);
    return fail(CUDA_ERROR_INVALID_VALUE, "kernel {}: the client's parameter layout {} differs from the device's {}",
                name, format_layout(record.layout), format_layout(device_layout));
  }
  if (known != CUDA_SUCCESS && known != CUDA_ERROR_NOT_SUPPORTED) {
    view()->function_release(record.handle);
    return fail(known, "kernel {}: reading its parameter layout failed", name);
  }
  functions_.insert(function, std::move(record));
  return CUDA_SUCCESS;
}

CUresult Session::module_get_global(uint64_t module, std::string_view name, uint64_t& dptr, uint64_t& size) {
  const Module* loaded = modules_.find(module);
  if (!loaded) return fail(CUDA_ERROR_INVALID_HANDLE, "unknown module {:#x}", module);
  if (CUresult r = view()->module_get_global(loaded->handle, name, dptr, size))
    return fail(r, "global {} of module {:#x} not available", name, module);
  // Copies to and from the global are then checked like any allocation's.
  if (const AllocationTable::Entry* known = allocations_.find_base(dptr);
      known && known->kind == AllocationTable::Kind::ModuleGlobal && known->size == size)
    return CUDA_SUCCESS;
  if (size != 0 &&
      !allocations_.insert({.base = dptr, .size = size, .kind = AllocationTable::Kind::ModuleGlobal, .module = module}))
    return fail(CUDA_ERROR_UNKNOWN, "global {} at [{:#x}, +{}) overlaps memory of this session", name, dptr, size);
  return CUDA_SUCCESS;
}

CUresult Session::function_get_attribute(uint64_t function, int32_t attribute, int32_t& value) {
  const Function* f = functions_.find(function);
  if (!f) return fail(CUDA_ERROR_INVALID_HANDLE, "unknown function {:#x}", function);
  return view()->function_get_attribute(f->handle, attribute, value);
}

CUresult Session::function_set_attribute(uint64_t function, int32_t attribute, int32_t value) {
  const Function* f = functions_.find(function);
  if (!f) return fail(CUDA_ERROR_INVALID_HANDLE, "unknown function {:#x}", function);
  if (!proto::settable_function_attribute(attribute))
    return fail(CUDA_ERROR_INVALID_VALUE, "kernel {}: function attribute {} cannot be set", f->name, attribute);
  if (CUresult r = view()->function_set_attribute(f->handle, attribute, value))
    return fail(r, "kernel {}: setting function attribute {} to {} failed", f->name, attribute, value);
  return CUDA_SUCCESS;
}

CUresult Session::function_set_cache_config(uint64_t function, int32_t config) {
  const Function* f = functions_.find(function);
  if (!f) return fail(CUDA_ERROR_INVALID_HANDLE, "unknown function {:#x}", function);
  if (!proto::valid_cache_config(config))
    return fail(CUDA_ERROR_INVALID_VALUE, "kernel {}: cache configuration {} is none CUDA has", f->name, config);
  if (CUresult r = view()->function_set_cache_config(f->handle, config))
    return fail(r, "kernel {}: setting cache configuration {} failed", f->name, config);
  return CUDA_SUCCESS;
}

CUresult Session::check_launch_attributes(const Function& f, const LaunchGeometry& geometry) {
  const LaunchAttributes& a = geometry.attributes;
  if (a.present == 0) return CUDA_SUCCESS;
  if (!proto::valid_launch_attributes(a))
    return fail(CUDA_ERROR_INVALID_VALUE, "kernel {}: launch attributes (set {:#x}) with values CUDA refuses", f.name,
                a.present);
  if (!proto::has(a, CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION)) return CUDA_SUCCESS;
  for (int d = 0; d < 3; ++d) {
    if (geometry.grid[d] % a.cluster[d] != 0)
      return fail(CUDA_ERROR_INVALID_VALUE, "kernel {}: cluster ({}, {}, {}) does not divide grid ({}, {}, {})", f.name,
                  a.cluster[0], a.cluster[1], a.cluster[2], geometry.grid[0], geometry.grid[1], geometry.grid[2]);
  }
  return CUDA_SUCCESS;
}

CUresult Session::launch(uint64_t function, const LaunchGeometry& geometry, uint64_t stream,
                         std::span<const uint8_t> params) {
  const Function* f = functions_.find(function);
  if (!f) return fail(CUDA_ERROR_INVALID_HANDLE, "unknown function {:#x}", function);
  // The backend reads each parameter at its offset: all must be inside the buffer.
  for (const ParamSlot& slot : f->layout) {
    if (uint64_t{slot.offset} + slot.size > params.size())
      return fail(CUDA_ERROR_INVALID_VALUE, "kernel {}: parameter at ({},{}) is past the {}-byte parameter buffer",
                  f->name, slot.offset, slot.size, params.size());
  }
  for (int d = 0; d < 3; ++d) {
    if (geometry.grid[d] == 0 || geometry.block[d] == 0)
      return fail(CUDA_ERROR_INVALID_VALUE, "kernel {}: launch with a zero grid or block dimension", f->name);
  }
  if (CUresult r = check_launch_attributes(*f, geometry)) return r;
  StreamHandle s;
  if (CUresult r = resolve_stream(stream, s)) return r;
  // A failed launch is logged here, once, with the session (fail_with); the
  // backend only says why, naming the kernel.
  std::string why;
  if (CUresult r = view()->launch(f->handle, geometry, s, params, f->layout, why)) {
    if (why.empty()) return backend_failed(r, fmt::format("launch of kernel {} failed", f->name));
    return fail_with(r, std::move(why));
  }
  return CUDA_SUCCESS;
}

// ---------------------------------------------------------------- streams

CUresult Session::stream_create(uint64_t stream, uint32_t flags, int32_t priority) {
  if (stream == 0 || (stream & proto::kPerThreadStreamBit) || streams_.find(stream))
    return fail(CUDA_ERROR_INVALID_VALUE, "stream id {:#x} is reserved or in use", stream);
  if (CUresult r = check_handle_room("StreamCreate")) return r;
  StreamHandle handle;
  if (CUresult r = view()->stream_create(flags, priority, handle)) return fail(r, "StreamCreate failed");
  streams_.insert(stream, handle);
  return CUDA_SUCCESS;
}

CUresult Session::stream_destroy(uint64_t stream) {
  const StreamHandle* handle = streams_.find(stream);
  if (!handle || (stream & proto::kPerThreadStreamBit))
    return fail(CUDA_ERROR_INVALID_HANDLE, "StreamDestroy of unknown stream {:#x}", stream);
  const CUresult r = view()->stream_destroy(*handle);
  streams_.erase(stream);
  return r;
}

CUresult Session::stream_synchronize(uint64_t stream) {
  StreamHandle s;
  if (CUresult r = resolve_stream(stream, s)) return r;
  const CUresult r = view()->stream_synchronize(s);
  return r ? backend_failed(r, "the stream's work failed") : CUDA_SUCCESS;
}

CUresult Session::stream_query(uint64_t stream) {
  StreamHandle s;
  if (CUresult r = resolve_stream(stream, s)) return r;
  return view()->stream_query(s);
}

CUresult Session::stream_wait_event(uint64_t stream, uint64_t event, uint32_t flags) {
  StreamHandle s;
  EventHandle e;
  if (CUresult r = resolve_stream(stream, s)) return r;
  if (CUresult r = resolve_event(event, e)) return r;
  return view()->stream_wait_event(s, e, flags);
}

// ---------------------------------------------------------------- events

CUresult Session::event_create(uint64_t event, uint32_t flags) {
  if (event == 0 || events_.find(event))
    return fail(CUDA_ERROR_INVALID_VALUE, "event id {:#x} is null or in use", event);
  if (CUresult r = check_handle_room("EventCreate")) return r;
  EventHandle handle;
  if (CUresult r = view()->event_create(flags, handle)) return fail(r, "EventCreate failed");
  events_.insert(event, handle);
  return CUDA_SUCCESS;
}

CUresult Session::event_destroy(uint64_t event) {
  EventHandle e;
  if (CUresult r = resolve_event(event, e)) return r;
  const CUresult r = view()->event_destroy(e);
  events_.erase(event);
  return r;
}

CUresult Session::event_record(uint64_t event, uint64_t stream) {
  EventHandle e;
  StreamHandle s;
  if (CUresult r = resolve_event(event, e)) return r;
  if (CUresult r = resolve_stream(stream, s)) return r;
  return view()->event_record(e, s);
}

CUresult Session::event_synchronize(uint64_t event) {
  EventHandle e;
  if (CUresult r = resolve_event(event, e)) return r;
  return view()->event_synchronize(e);
}

CUresult Session::event_query(uint64_t event) {
  EventHandle e;
  if (CUresult r = resolve_event(event, e)) return r;
  return view()->event_query(e);
}

CUresult Session::event_elapsed(uint64_t start, uint64_t end, float& milliseconds) {
  EventHandle s, e;
  if (CUresult r = resolve_event(start, s)) return r;
  if (CUresult r = resolve_event(end, e)) return r;
  return view()->event_elapsed(s, e, milliseconds);
}

CUresult Session::ctx_synchronize() {
  const CUresult r = view()->synchronize();
  return r ? backend_failed(r, "the session's work failed") : CUDA_SUCCESS;
}

// ---------------------------------------------------------------- end

CUresult Session::move_to(Device& device, size_t device_index, std::string& why) {
  std::vector<uint64_t> bases;
  for (const auto& [base, entry] : allocations_)
    if (entry.kind == AllocationTable::Kind::Allocation) bases.push_back(base);
  if (CUresult r = view()->move_memory(bases, device, why)) return r;
  device_ = &device;
  device_index_ = device_index;
  return CUDA_SUCCESS;
}

ReleasedResources Session::release() {
  ReleasedResources released;
  if (!device_) return released;
  templates_.drop(proto::kAllTemplates);
  // Work still queued may use the memory about to be freed.
  for (auto& [id, stream] : streams_) view()->stream_synchronize(stream);
  view()->stream_synchronize(StreamHandle{});

  released.events = events_.size();
  for (auto& [id, event] : events_) view()->event_destroy(event);
  events_.clear();
  released.functions = functions_.size();
  for (auto& [id, function] : functions_) view()->function_release(function.handle);
  functions_.clear();
  released.modules = modules_.size();
  for (auto& [id, module] : modules_) view()->module_unload(module.handle);
  module_bytes_ = 0;
  module_memory_bytes_ = 0;
  modules_.clear();
  released.streams = streams_.size();
  for (auto& [id, stream] : streams_) view()->stream_destroy(stream);
  streams_.clear();
  for (const auto& [base, entry] : allocations_) {
    if (entry.kind != AllocationTable::Kind::Allocation) continue;
    view()->mem_free(base);
    ++released.allocations;
    released.bytes += entry.size;
  }
  allocations_ = AllocationTable{};
  view()->close_window(window_);
  device_ = nullptr;
  view_ = {};
  return released;
}

}  // namespace rrto::server
