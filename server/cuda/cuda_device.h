// The `cuda` backend: one GPU through the real driver (cuda_driver.h), in its
// primary context, shared by the sessions placed on it; each session's
// streams, events and modules are its own driver objects.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "server/backend.h"
#include "server/cuda/cuda_driver.h"
#include "server/cuda/cuda_windows.h"

namespace rrto::server::cuda {

// The device, and the view all its sessions share.
class CudaDevice final : public Device, public SessionDevice {
 public:
  // Retains the primary context of GPU `ordinal`. `driver` must outlive the device.
  static Status open(const CudaDriver& driver, int ordinal, std::unique_ptr<CudaDevice>& out, std::string& error);
  ~CudaDevice() override;

  const DeviceDescription& description() const override { return description_; }
  // Sessions share the device's context; each session's allocations are
  // mapped in its own address window (cuda_windows.h).
  CUresult open_session(uint64_t session_id, uint64_t window, SessionView& view) override;

  CUresult mem_alloc(uint64_t size, uint64_t window, uint64_t at, uint64_t& dptr) override;
  void close_window(uint64_t window) override { windows_->close(window); }
  CUresult mem_free(uint64_t dptr) override;
  CUresult mem_get_info(uint64_t& free, uint64_t& total) override;
  CUresult copy_htod(uint64_t dst, const void* src, uint64_t size, StreamHandle stream) override;
  CUresult copy_dtoh_for_reply(uint64_t src, uint64_t size, StreamHandle stream, const uint8_t*& bytes) override;
  bool reply_bytes_are_sessions() const override { return false; }  // the device's staging buffer
  CUresult move_memory(std::span<const uint64_t> bases, Device& to, std::string& why) override {
    why = "the cuda backend keeps a session's memory on its GPU (a move would remap its window onto another's)";
    return CUDA_ERROR_NOT_SUPPORTED;
  }
  CUresult copy_dtod(uint64_t dst, uint64_t src, uint64_t size, StreamHandle stream) override;
  CUresult memset(uint64_t dst, uint32_t value, uint32_t element_size, uint64_t count, StreamHandle stream) override;
  CUresult copy_htod_2d(uint64_t dst, uint64_t dst_pitch, const void* rows, uint64_t width, uint64_t height,
                        StreamHandle stream) override;
  CUresult copy_dtoh_2d_for_reply(uint64_t src, uint64_t src_pitch, uint64_t width, uint64_t height,
                                  StreamHandle stream, const uint8_t*& bytes) override;
  CUresult copy_dtod_2d(uint64_t dst, uint64_t dst_pitch, uint64_t src, uint64_t src_pitch, uint64_t width,
                        uint64_t height, StreamHandle stream) override;
  CUresult memset_2d(uint64_t dst, uint64_t pitch, uint32_t value, uint32_t element_size, uint64_t width,
                     uint64_t height, StreamHandle stream) override;
  // GPU memory: a payload cannot land in it straight from the network.
  uint8_t* host_address(uint64_t, uint64_t) override { return nullptr; }
  CUresult finish_batch() override;
  // The driver's error code says it all.
  const std::string& failure() const override { return no_failure_; }

  CUresult module_load(std::span<const uint8_t> image, ModuleHandle& module, std::string& error) override;
  CUresult module_unload(ModuleHandle module) override;
  CUresult module_get_function(ModuleHandle module, std::string_view name, FunctionHandle& function) override;
  CUresult function_param_layout(FunctionHandle function, ParamLayout& layout) override;
  // A CUfunction belongs to its module; nothing to free.
  void function_release(FunctionHandle) override {}
  CUresult module_get_global(ModuleHandle module, std::string_view name, uint64_t& dptr, uint64_t& size) override;
  CUresult function_get_attribute(FunctionHandle function, int32_t attribute, int32_t& value) override;
  CUresult function_set_attribute(FunctionHandle function, int32_t attribute, int32_t value) override;
  CUresult function_set_cache_config(FunctionHandle function, int32_t config) override;
  CUresult tensor_map_encode(const proto::TensorMapEncode& call,
                             std::array<uint8_t, proto::kTensorMapBytes>& map) override;
  CUresult launch(FunctionHandle function, const LaunchGeometry& geometry, StreamHandle stream,
                  std::span<const uint8_t> params, const ParamLayout& layout, std::string& error) override;

  CUresult stream_create(uint32_t flags, int32_t priority, StreamHandle& stream) override;
  CUresult stream_destroy(StreamHandle stream) override;
  CUresult stream_synchronize(StreamHandle stream) override;
  CUresult stream_query(StreamHandle stream) override;
  CUresult stream_wait_event(StreamHandle stream, EventHandle event, uint32_t flags) override;

  CUresult event_create(uint32_t flags, EventHandle& event) override;
  CUresult event_destroy(EventHandle event) override;
  CUresult event_record(EventHandle event, StreamHandle stream) override;
  CUresult event_synchronize(EventHandle event) override;
  CUresult event_query(EventHandle event) override;
  CUresult event_elapsed(EventHandle start, EventHandle end, float& milliseconds) override;

  CUresult synchronize() override;

 private:
  CudaDevice(const CudaDriver& driver, int ordinal) : driver_(driver), ordinal_(ordinal) {}
  // Makes this device's context current on the calling thread.
  CUresult bind();

  const CudaDriver& driver_;
  const int ordinal_;
  CUdevice device_ = 0;
  CUcontext context_ = nullptr;
  std::unique_ptr<CudaWindows> windows_;
  DeviceDescription description_;

  // The staging buffer, at least `size` bytes.
  CUresult stage(uint64_t size);
  // Marks the end of a copy from the received message (finish_batch waits for it).
  CUresult mark_message_read(StreamHandle stream);

  // Pinned memory a MemcpyDtoH lands in before it goes out as a reply.
  void* staging_ = nullptr;
  size_t staging_size_ = 0;
  // Events marking the end of this batch's host-to-device copies, which read
  // the received message's buffers; and spare ones for reuse.
  std::vector<CUevent> pending_copies_;
  std::vector<CUevent> spare_events_;
  std::vector<void*> kernel_params_;  // reused by launch()
  // A launch with attributes, through cuLaunchKernelEx.
  CUresult launch_with_attributes(CUfunction function, const LaunchGeometry& g, CUstream stream, void** params);
  const std::string no_failure_;
};

}  // namespace rrto::server::cuda
