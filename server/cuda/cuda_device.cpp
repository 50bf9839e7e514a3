#include "server/cuda/cuda_device.h"

#include <algorithm>
#include <array>
#include <cstring>

#include <fmt/format.h>

#include "common/log.h"
#include "protocol/launch_attributes.h"
#include "module_image/validate.h"

namespace rrto::server::cuda {
namespace {

constexpr const char* kLog = "cuda";
constexpr size_t kJitLogBytes = 4096;

// One side of a 2D copy: host or device memory and its pitch.
struct Rows {
  CUmemorytype type;
  uint64_t address;
  uint64_t pitch;
};

CUDA_MEMCPY2D copy_2d(const Rows& dst, const Rows& src, uint64_t width, uint64_t height) {
  CUDA_MEMCPY2D copy{};
  copy.srcMemoryType = src.type;
  if (src.type == CU_MEMORYTYPE_HOST)
    copy.srcHost = reinterpret_cast<const void*>(src.address);
  else
    copy.srcDevice = src.address;
  copy.srcPitch = src.pitch;
  copy.dstMemoryType = dst.type;
  if (dst.type == CU_MEMORYTYPE_HOST)
    copy.dstHost = reinterpret_cast<void*>(dst.address);
  else
    copy.dstDevice = dst.address;
  copy.dstPitch = dst.pitch;
  copy.WidthInBytes = width;
  copy.Height = height;
  return copy;
}

CUstream stream_of(StreamHandle s) { return static_cast<CUstream>(s.ptr); }
CUevent event_of(EventHandle e) { return static_cast<CUevent>(e.ptr); }
CUmodule module_of(ModuleHandle m) { return static_cast<CUmodule>(m.ptr); }
CUfunction function_of(FunctionHandle f) { return static_cast<CUfunction>(f.ptr); }

// The context current on this thread, as far as the backends set it.
thread_local CUcontext current_context = nullptr;

}  // namespace

Status CudaDevice::open(const CudaDriver& driver, int ordinal, std::unique_ptr<CudaDevice>& out, std::string& error) {
  std::unique_ptr<CudaDevice> device(new CudaDevice(driver, ordinal));
  auto fail = [&](const char* what, CUresult r) {
    error = fmt::format("GPU {}: {} failed with {}", ordinal, what, driver.error_name(r));
    return Status::NotFound;
  };
  if (CUresult r = driver.cuDeviceGet(&device->device_, ordinal)) return fail("cuDeviceGet", r);
  if (CUresult r = driver.cuDevicePrimaryCtxRetain(&device->context_, device->device_))
    return fail("cuDevicePrimaryCtxRetain", r);
  device->windows_ = std::make_unique<CudaWindows>(driver, device->device_, ordinal);

  DeviceDescription& d = device->description_;
  char name[256] = {};
  driver.cuDeviceGetName(name, sizeof name - 1, device->device_);
  d.name = name;
  CUuuid uuid{};
  if (driver.cuDeviceGetUuid(&uuid, device->device_) == CUDA_SUCCESS) std::memcpy(d.uuid.data(), uuid.bytes, 16);
  size_t total = 0;
  driver.cuDeviceTotalMem(&total, device->device_);
  d.total_memory = total;
  d.driver_version = driver.driver_version;
  for (int a = 1; a < CU_DEVICE_ATTRIBUTE_MAX; ++a) {
    int value = 0;
    // Attributes this driver does not know stay 0.
    if (driver.cuDeviceGetAttribute(&value, static_cast<CUdevice_attribute>(a), device->device_) == CUDA_SUCCESS)
      d.attributes[a] = value;
  }
  d.pci_domain = d.attributes[CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID];
  d.pci_bus = d.attributes[CU_DEVICE_ATTRIBUTE_PCI_BUS_ID];
  d.pci_device = d.attributes[CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID];
  RRTO_INFO(kLog, "GPU {}: {}, {} MiB, compute capability {}.{}, PCI {:04x}:{:02x}:{:02x}", ordinal, d.name,
            total >> 20, d.attributes[CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR],
            d.attributes[CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR], d.pci_domain, d.pci_bus, d.pci_device);
  out = std::move(device);
  return Status::Ok;
}

CudaDevice::~CudaDevice() {
  if (!context_) return;
  if (bind() == CUDA_SUCCESS) {
    driver_.cuCtxSynchronize();
    windows_.reset();
    for (CUevent e : pending_copies_) driver_.cuEventDestroy(e);
    for (CUevent e : spare_events_) driver_.cuEventDestroy(e);
    if (staging_) driver_.cuMemFreeHost(staging_);
  }
  driver_.cuCtxSetCurrent(nullptr);
  current_context = nullptr;
  driver_.cuDevicePrimaryCtxRelease(device_);
}

CUresult CudaDevice::bind() {
  if (current_context == context_) return CUDA_SUCCESS;
  if (CUresult r = driver_.cuCtxSetCurrent(context_)) return r;
  current_context = context_;
  return CUDA_SUCCESS;
}

// ---------------------------------------------------------------- memory

CUresult CudaDevice::open_session(uint64_t session_id, uint64_t window, SessionView& view) {
  if (CUresult r = bind()) return r;
  // Without its window a session still runs, on cuMemAlloc's addresses; it
  // only cannot be re-created elsewhere.
  if (std::string why; windows_->open(window, why) != CUDA_SUCCESS)
    RRTO_WARN(kLog, "session {}: {}; its memory comes from cuMemAlloc and it cannot fail over", session_id, why);
  view = {.own = nullptr, .device = this};
  return CUDA_SUCCESS;
}

CUresult CudaDevice::mem_alloc(uint64_t size, uint64_t window, uint64_t at, uint64_t& dptr) {
  if (CUresult r = bind()) return r;
  if (windows_->is_open(window)) return windows_->allocate(window, size, at, dptr);
  if (at != 0) return CUDA_ERROR_NOT_SUPPORTED;
  CUdeviceptr p = 0;
  if (CUresult r = driver_.cuMemAlloc(&p, size)) return r;
  dptr = p;
  return CUDA_SUCCESS;
}

CUresult CudaDevice::mem_free(uint64_t dptr) {
  if (CUresult r = bind()) return r;
  // As cuMemFree, after the work that may still use it.
  if (CUresult r = driver_.cuCtxSynchronize()) return r;
  const CUresult r = windows_->free(dptr);
  return r == CUDA_ERROR_NOT_FOUND ? driver_.cuMemFree(dptr) : r;
}

CUresult CudaDevice::mem_get_info(uint64_t& free, uint64_t& total) {
  if (CUresult r = bind()) return r;
  size_t f = 0, t = 0;
  if (CUresult r = driver_.cuMemGetInfo(&f, &t)) return r;
  free = f;
  total = t;
  return CUDA_SUCCESS;
}

CUresult CudaDevice::copy_htod(uint64_t dst, const void* src, uint64_t size, StreamHandle stream) {
  if (CUresult r = bind()) return r;
  if (CUresult r = driver_.cuMemcpyHtoDAsync(dst, src, size, stream_of(stream))) return r;
  return mark_message_read(stream);
}

// The source of a copy just queued is the received message; finish_batch()
// waits for this mark.
CUresult CudaDevice::mark_message_read(StreamHandle stream) {
  CUevent done = nullptr;
  if (!spare_events_.empty()) {
    done = spare_events_.back();
    spare_events_.pop_back();
  } else if (CUresult r = driver_.cuEventCreate(&done, CU_EVENT_DISABLE_TIMING)) {
    driver_.cuStreamSynchronize(stream_of(stream));
    return r;
  }
  if (CUresult r = driver_.cuEventRecord(done, stream_of(stream))) {
    spare_events_.push_back(done);
    driver_.cuStreamSynchronize(stream_of(stream));
    return r;
  }
  pending_copies_.push_back(done);
  return CUDA_SUCCESS;
}

CUresult CudaDevice::finish_batch() {
  if (pending_copies_.empty()) return CUDA_SUCCESS;
  CUresult first_error = bind();
  for (CUevent e : pending_copies_) {
    const CUresult r = driver_.cuEventSynchronize(e);
    if (first_error == CUDA_SUCCESS) first_error = r;
    spare_events_.push_back(e);
  }
  pending_copies_.clear();
  return first_error;
}

CUresult CudaDevice::stage(uint64_t size) {
  // Pinned memory is scarce: what one large copy needed goes back once a
  // small one comes (the reply's bytes are copied out before the next call).
  constexpr size_t kKeepStagingBytes = 16u << 20;
  if (size > staging_size_ || (staging_size_ > kKeepStagingBytes && size <= kKeepStagingBytes)) {
    if (staging_) driver_.cuMemFreeHost(staging_);
    staging_ = nullptr;
    staging_size_ = 0;
    if (CUresult r = driver_.cuMemAllocHost(&staging_, size)) return r;
    staging_size_ = size;
  }
  return CUDA_SUCCESS;
}

CUresult CudaDevice::copy_dtoh_for_reply(uint64_t src, uint64_t size, StreamHandle stream, const uint8_t*& bytes) {
  if (CUresult r = bind()) return r;
  if (CUresult r = stage(size)) return r;
  if (CUresult r = driver_.cuMemcpyDtoHAsync(staging_, src, size, stream_of(stream))) return r;
  if (CUresult r = driver_.cuStreamSynchronize(stream_of(stream))) return r;
  bytes = static_cast<const uint8_t*>(staging_);
  return CUDA_SUCCESS;
}

CUresult CudaDevice::copy_dtod(uint64_t dst, uint64_t src, uint64_t size, StreamHandle stream) {
  if (CUresult r = bind()) return r;
  return driver_.cuMemcpyDtoDAsync(dst, src, size, stream_of(stream));
}

CUresult CudaDevice::memset(uint64_t dst, uint32_t value, uint32_t element_size, uint64_t count, StreamHandle stream) {
  if (CUresult r = bind()) return r;
  switch (element_size) {
    case 1: return driver_.cuMemsetD8Async(dst, static_cast<unsigned char>(value), count, stream_of(stream));
    case 2: return driver_.cuMemsetD16Async(dst, static_cast<unsigned short>(value), count, stream_of(stream));
    case 4: return driver_.cuMemsetD32Async(dst, value, count, stream_of(stream));
    default: return CUDA_ERROR_INVALID_VALUE;
  }
}

CUresult CudaDevice::copy_htod_2d(uint64_t dst, uint64_t dst_pitch, const void* rows, uint64_t width, uint64_t height,
                                  StreamHandle stream) {
  if (CUresult r = bind()) return r;
  const CUDA_MEMCPY2D copy = copy_2d({CU_MEMORYTYPE_DEVICE, dst, dst_pitch},
                                     {CU_MEMORYTYPE_HOST, reinterpret_cast<uint64_t>(rows), width}, width, height);
  if (CUresult r = driver_.cuMemcpy2DAsync(&copy, stream_of(stream))) return r;
  return mark_message_read(stream);
}

CUresult CudaDevice::copy_dtoh_2d_for_reply(uint64_t src, uint64_t src_pitch, uint64_t width, uint64_t height,
                                            StreamHandle stream, const uint8_t*& bytes) {
  if (CUresult r = bind()) return r;
  if (CUresult r = stage(width * height)) return r;
  const CUDA_MEMCPY2D copy = copy_2d({CU_MEMORYTYPE_HOST, reinterpret_cast<uint64_t>(staging_), width},
                                     {CU_MEMORYTYPE_DEVICE, src, src_pitch}, width, height);
  if (CUresult r = driver_.cuMemcpy2DAsync(&copy, stream_of(stream))) return r;
  if (CUresult r = driver_.cuStreamSynchronize(stream_of(stream))) return r;
  bytes = static_cast<const uint8_t*>(staging_);
  return CUDA_SUCCESS;
}

CUresult CudaDevice::copy_dtod_2d(uint64_t dst, uint64_t dst_pitch, uint64_t src, uint64_t src_pitch, uint64_t width,
                                  uint64_t height, StreamHandle stream) {
  if (CUresult r = bind()) return r;
  const CUDA_MEMCPY2D copy =
      copy_2d({CU_MEMORYTYPE_DEVICE, dst, dst_pitch}, {CU_MEMORYTYPE_DEVICE, src, src_pitch}, width, height);
  return driver_.cuMemcpy2DAsync(&copy, stream_of(stream));
}

CUresult CudaDevice::memset_2d(uint64_t dst, uint64_t pitch, uint32_t value, uint32_t element_size, uint64_t width,
                               uint64_t height, StreamHandle stream) {
  if (CUresult r = bind()) return r;
  CUstream s = stream_of(stream);
  switch (element_size) {
    case 1: return driver_.cuMemsetD2D8Async(dst, pitch, static_cast<unsigned char>(value), width, height, s);
    case 2: return driver_.cuMemsetD2D16Async(dst, pitch, static_cast<unsigned short>(value), width, height, s);
    case 4: return driver_.cuMemsetD2D32Async(dst, pitch, value, width, height, s);
    default: return CUDA_ERROR_INVALID_VALUE;
  }
}

// ---------------------------------------------------------------- modules

CUresult CudaDevice::module_load(std::span<const uint8_t> image, ModuleHandle& module, std::string& error) {
  ModuleImage::Kind kind{};
  if (!ok(validate_module_image(image, kind, error))) return CUDA_ERROR_INVALID_IMAGE;
  // An aligned copy, NUL-terminated so that PTX text ends inside it.
  std::vector<uint8_t> copy(image.size() + 1, 0);
  std::memcpy(copy.data(), image.data(), image.size());

  if (CUresult r = bind()) return r;
  char log[kJitLogBytes] = {};
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void* values[] = {log, reinterpret_cast<void*>(static_cast<uintptr_t>(sizeof log - 1))};
  CUmodule m = nullptr;
  if (CUresult r = driver_.cuModuleLoadDataEx(&m, copy.data(), 2, options, values)) {
    error = fmt::format("{}{}{}", driver_.error_name(r), log[0] ? ": " : "", log);
    return r;
  }
  module.ptr = m;
  return CUDA_SUCCESS;
}

CUresult CudaDevice::module_unload(ModuleHandle module) {
  if (CUresult r = bind()) return r;
  return driver_.cuModuleUnload(module_of(module));
}

CUresult CudaDevice::module_get_function(ModuleHandle module, std::string_view name, FunctionHandle& function) {
  if (CUresult r = bind()) return r;
  const std::string terminated(name);
  CUfunction f = nullptr;
  if (CUresult r = driver_.cuModuleGetFunction(&f, module_of(module), terminated.c_str())) return r;
  function.ptr = f;
  return CUDA_SUCCESS;
}

CUresult CudaDevice::function_param_layout(FunctionHandle function, ParamLayout& layout) {
  if (!driver_.cuFuncGetParamInfo) return CUDA_ERROR_NOT_SUPPORTED;
  if (CUresult r = bind()) return r;
  layout.clear();
  // The driver answers index by index and INVALID_VALUE past the last.
  for (size_t index = 0;; ++index) {
    size_t offset = 0, size = 0;
    const CUresult r = driver_.cuFuncGetParamInfo(function_of(function), index, &offset, &size);
    if (r == CUDA_ERROR_INVALID_VALUE) return CUDA_SUCCESS;
    if (r != CUDA_SUCCESS) return r;
    layout.push_back({static_cast<uint32_t>(offset), static_cast<uint32_t>(size)});
  }
}

CUresult CudaDevice::module_get_global(ModuleHandle module, std::string_view name, uint64_t& dptr, uint64_t& size) {
  if (CUresult r = bind()) return r;
  const std::string terminated(name);
  CUdeviceptr p = 0;
  size_t bytes = 0;
  if (CUresult r = driver_.cuModuleGetGlobal(&p, &bytes, module_of(module), terminated.c_str())) return r;
  dptr = p;
  size = bytes;
  return CUDA_SUCCESS;
}

CUresult CudaDevice::function_get_attribute(FunctionHandle function, int32_t attribute, int32_t& value) {
  if (CUresult r = bind()) return r;
  int v = 0;
  if (CUresult r = driver_.cuFuncGetAttribute(&v, static_cast<CUfunction_attribute>(attribute), function_of(function)))
    return r;
  value = v;
  return CUDA_SUCCESS;
}

CUresult CudaDevice::function_set_attribute(FunctionHandle function, int32_t attribute, int32_t value) {
  if (CUresult r = bind()) return r;
  return driver_.cuFuncSetAttribute(function_of(function), static_cast<CUfunction_attribute>(attribute), value);
}

CUresult CudaDevice::function_set_cache_config(FunctionHandle function, int32_t config) {
  if (CUresult r = bind()) return r;
  return driver_.cuFuncSetCacheConfig(function_of(function), static_cast<CUfunc_cache>(config));
}

namespace {

static_assert(sizeof(CUtensorMap) == proto::kTensorMapBytes);

// The elements of a checked array from the wire, which need not be aligned there.
template <typename T>
std::array<T, 5> elements_of(proto::Bytes bytes) {
  std::array<T, 5> out{};
  std::memcpy(out.data(), bytes.data(), std::min(bytes.size(), sizeof out));
  return out;
}

}  // namespace

CUresult CudaDevice::tensor_map_encode(const proto::TensorMapEncode& c,
                                       std::array<uint8_t, proto::kTensorMapBytes>& map) {
  const bool tiled = c.kind == proto::kTensorMapTiled;
  if (tiled ? !driver_.cuTensorMapEncodeTiled : !driver_.cuTensorMapEncodeIm2col) return CUDA_ERROR_NOT_SUPPORTED;
  if (CUresult r = bind()) return r;
  const auto dims = elements_of<cuuint64_t>(c.global_dim), strides = elements_of<cuuint64_t>(c.global_strides);
  const auto box = elements_of<cuuint32_t>(c.box_dim), element_strides = elements_of<cuuint32_t>(c.element_strides);
  const auto lower = elements_of<int>(c.lower_corner), upper = elements_of<int>(c.upper_corner);
  const auto type = static_cast<CUtensorMapDataType>(c.data_type);
  const auto interleave = static_cast<CUtensorMapInterleave>(c.interleave);
  const auto swizzle = static_cast<CUtensorMapSwizzle>(c.swizzle);
  const auto l2 = static_cast<CUtensorMapL2promotion>(c.l2_promotion);
  const auto oob = static_cast<CUtensorMapFloatOOBfill>(c.oob_fill);
  auto* address = reinterpret_cast<void*>(c.global_address);
  CUtensorMap encoded{};
  const CUresult r =
      tiled ? driver_.cuTensorMapEncodeTiled(&encoded, type, c.rank, address, dims.data(), strides.data(), box.data(),
                                             element_strides.data(), interleave, swizzle, l2, oob)
            : driver_.cuTensorMapEncodeIm2col(&encoded, type, c.rank, address, dims.data(), strides.data(),
                                              lower.data(), upper.data(), c.channels_per_pixel, c.pixels_per_column,
                                              element_strides.data(), interleave, swizzle, l2, oob);
  if (r == CUDA_SUCCESS) std::memcpy(map.data(), &encoded, sizeof encoded);
  return r;
}

CUresult CudaDevice::launch(FunctionHandle function, const LaunchGeometry& g, StreamHandle stream,
                            std::span<const uint8_t> params, const ParamLayout& layout, std::string& error) {
  if (CUresult r = bind()) return r;
  // kernelParams: a pointer to each parameter's bytes in the received buffer
  // (the session checked that every slot lies inside it). The driver copies
  // the values at launch, so the buffer may go away afterwards.
  kernel_params_.resize(layout.size());
  for (size_t i = 0; i < layout.size(); ++i) kernel_params_[i] = const_cast<uint8_t*>(params.data() + layout[i].offset);
  void** kernel_params = kernel_params_.empty() ? nullptr : kernel_params_.data();
  if (g.attributes.present != 0) {
    const CUresult r = launch_with_attributes(function_of(function), g, stream_of(stream), kernel_params);
    if (r != CUDA_SUCCESS) error = fmt::format("cuLaunchKernelEx failed with {}", driver_.error_name(r));
    return r;
  }
  const CUresult r = driver_.cuLaunchKernel(function_of(function), g.grid[0], g.grid[1], g.grid[2], g.block[0],
                                            g.block[1], g.block[2], g.shared_mem, stream_of(stream), kernel_params,
                                            nullptr);
  if (r != CUDA_SUCCESS) error = fmt::format("cuLaunchKernel failed with {}", driver_.error_name(r));
  return r;
}

CUresult CudaDevice::launch_with_attributes(CUfunction function, const LaunchGeometry& g, CUstream stream,
                                            void** params) {
  const LaunchAttributes& a = g.attributes;
  std::array<CUlaunchAttribute, 8> attributes{};
  unsigned count = 0;
  auto add = [&](CUlaunchAttributeID id) -> CUlaunchAttributeValue& {
    attributes[count].id = id;
    return attributes[count++].value;
  };
  if (proto::has(a, CU_LAUNCH_ATTRIBUTE_COOPERATIVE)) add(CU_LAUNCH_ATTRIBUTE_COOPERATIVE).cooperative = static_cast<int>(a.cooperative);
  if (proto::has(a, CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION)) {
    CUlaunchAttributeValue& v = add(CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION);
    v.clusterDim.x = a.cluster[0];
    v.clusterDim.y = a.cluster[1];
    v.clusterDim.z = a.cluster[2];
  }
  if (proto::has(a, CU_LAUNCH_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE))
    add(CU_LAUNCH_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE).clusterSchedulingPolicyPreference =
        static_cast<CUclusterSchedulingPolicy>(a.cluster_scheduling);
  if (proto::has(a, CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION))
    add(CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION).programmaticStreamSerializationAllowed =
        static_cast<int>(a.programmatic_serialization);
  if (proto::has(a, CU_LAUNCH_ATTRIBUTE_PRIORITY)) add(CU_LAUNCH_ATTRIBUTE_PRIORITY).priority = a.priority;
  if (proto::has(a, CU_LAUNCH_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT))
    add(CU_LAUNCH_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT).sharedMemCarveout = a.shared_memory_carveout;
  CUlaunchConfig config{};
  config.gridDimX = g.grid[0];
  config.gridDimY = g.grid[1];
  config.gridDimZ = g.grid[2];
  config.blockDimX = g.block[0];
  config.blockDimY = g.block[1];
  config.blockDimZ = g.block[2];
  config.sharedMemBytes = g.shared_mem;
  config.hStream = stream;
  config.attrs = attributes.data();
  config.numAttrs = count;
  if (!driver_.cuLaunchKernelEx) return CUDA_ERROR_NOT_SUPPORTED;
  return driver_.cuLaunchKernelEx(&config, function, params, nullptr);
}

// ---------------------------------------------------------------- streams

CUresult CudaDevice::stream_create(uint32_t flags, int32_t priority, StreamHandle& stream) {
  if (CUresult r = bind()) return r;
  CUstream s = nullptr;
  if (CUresult r = driver_.cuStreamCreateWithPriority(&s, flags, priority)) return r;
  stream.ptr = s;
  return CUDA_SUCCESS;
}

CUresult CudaDevice::stream_destroy(StreamHandle stream) {
  if (CUresult r = bind()) return r;
  return driver_.cuStreamDestroy(stream_of(stream));
}

CUresult CudaDevice::stream_synchronize(StreamHandle stream) {
  if (CUresult r = bind()) return r;
  return driver_.cuStreamSynchronize(stream_of(stream));
}

CUresult CudaDevice::stream_query(StreamHandle stream) {
  if (CUresult r = bind()) return r;
  return driver_.cuStreamQuery(stream_of(stream));
}

CUresult CudaDevice::stream_wait_event(StreamHandle stream, EventHandle event, uint32_t flags) {
  if (CUresult r = bind()) return r;
  return driver_.cuStreamWaitEvent(stream_of(stream), event_of(event), flags);
}

// ---------------------------------------------------------------- events

CUresult CudaDevice::event_create(uint32_t flags, EventHandle& event) {
  if (CUresult r = bind()) return r;
  CUevent e = nullptr;
  if (CUresult r = driver_.cuEventCreate(&e, flags)) return r;
  event.ptr = e;
  return CUDA_SUCCESS;
}

CUresult CudaDevice::event_destroy(EventHandle event) {
  if (CUresult r = bind()) return r;
  return driver_.cuEventDestroy(event_of(event));
}

CUresult CudaDevice::event_record(EventHandle event, StreamHandle stream) {
  if (CUresult r = bind()) return r;
  return driver_.cuEventRecord(event_of(event), stream_of(stream));
}

CUresult CudaDevice::event_synchronize(EventHandle event) {
  if (CUresult r = bind()) return r;
  return driver_.cuEventSynchronize(event_of(event));
}

CUresult CudaDevice::event_query(EventHandle event) {
  if (CUresult r = bind()) return r;
  return driver_.cuEventQuery(event_of(event));
}

CUresult CudaDevice::event_elapsed(EventHandle start, EventHandle end, float& milliseconds) {
  if (CUresult r = bind()) return r;
  return driver_.cuEventElapsedTime(&milliseconds, event_of(start), event_of(end));
}

CUresult CudaDevice::synchronize() {
  if (CUresult r = bind()) return r;
  return driver_.cuCtxSynchronize();
}

}  // namespace rrto::server::cuda
