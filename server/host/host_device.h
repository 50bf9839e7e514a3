// The `host` backend: an emulated CUDA device in host memory, for machines
// without a GPU. Each session works through its own view of the device
// (open_session, host_session.h): its memory is real host memory mapped at
// its device addresses, limited per device; its kernels run on the CPU from
// host-kernel libraries (server/hostkernel/) in a kernel process of its own,
// one launch at a time; streams and events are bookkeeping (events keep the
// time they were recorded). With a time scale, launches also hold the device
// for their simulated duration (device_time.h). The device itself keeps what
// its sessions share: the memory accounting, the kernel libraries and the
// bookkeeping objects; it has no memory of its own.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "server/backend.h"
#include "server/host/device_time.h"
#include "server/host/kernel_process.h"
#include "server/hostkernel/loader.h"

namespace rrto::server::host {

struct HostDeviceOptions {
  size_t index = 0;  // the device's position in the config
  std::string name = "RRTO host device";
  uint64_t memory_bytes = 4096ull << 20;
  double time_scale_us = 0;  // simulated device time per thread block; 0 = off
  // How long one kernel may run before its session fails with
  // CUDA_ERROR_LAUNCH_TIMEOUT.
  std::chrono::milliseconds kernel_time_limit = std::chrono::seconds(60);
  std::string kernel_runner = default_kernel_runner();  // the kernel processes' program
};

class HostSessionDevice;

// A function of a module: the kernel's CPU version, looked up by name.
struct HostFunction {
  std::string name;
  const HostKernel* kernel = nullptr;  // nullptr: no CPU version
  std::string missing_reason;          // why kernel is nullptr
  // Its CUfunction_attributes: the host device's, and what the session set
  // (the largest dynamic shared memory a launch may ask for, say).
  std::array<int32_t, CU_FUNC_ATTRIBUTE_MAX> attributes{};
  int32_t cache_config = CU_FUNC_CACHE_PREFER_NONE;  // recorded only: the host has no L1 to split
};

class HostDevice final : public Device {
 public:
  // `kernels` may be shared by several devices; it must outlive them.
  HostDevice(const HostDeviceOptions& options, std::shared_ptr<const HostKernelRegistry> kernels);
  ~HostDevice() override;

  const DeviceDescription& description() const override { return description_; }
  // A session's own view, with its own memory and kernel process.
  CUresult open_session(uint64_t session_id, uint64_t window, SessionView& view) override;

  CUresult mem_get_info(uint64_t& free, uint64_t& total) const;
  uint64_t used_bytes() const;
  // Ends every session's kernel runs (their kernel processes are killed) and
  // starts no more (server shutdown): nothing waits for a kernel that does
  // not end. Async-signal-safe.
  void stop_kernels() { stopping_.store(true, std::memory_order_relaxed); }

 private:
  friend class HostSessionDevice;
  // What the sessions share: the memory accounting, and the bookkeeping
  // objects (their views hand these calls on).
  bool reserve(uint64_t bytes);
  void unreserve(uint64_t bytes);
  CUresult module_load(std::span<const uint8_t> image, ModuleHandle& module, std::string& error);
  CUresult module_unload(ModuleHandle module);
  CUresult module_get_function(ModuleHandle module, std::string_view name, FunctionHandle& function);
  CUresult function_param_layout(FunctionHandle function, ParamLayout& layout);
  void function_release(FunctionHandle function);
  CUresult function_get_attribute(FunctionHandle function, int32_t attribute, int32_t& value);
  CUresult function_set_attribute(FunctionHandle function, int32_t attribute, int32_t value);
  CUresult function_set_cache_config(FunctionHandle function, int32_t config);
  CUresult stream_create(uint32_t flags, int32_t priority, StreamHandle& stream);
  CUresult stream_destroy(StreamHandle stream);
  CUresult event_create(uint32_t flags, EventHandle& event);
  CUresult event_destroy(EventHandle event);
  CUresult event_record(EventHandle event, StreamHandle stream);
  CUresult event_elapsed(EventHandle start, EventHandle end, float& milliseconds);

  DeviceDescription description_;
  std::shared_ptr<const HostKernelRegistry> kernels_;
  DeviceTimeModel time_model_;
  const uint64_t memory_limit_;
  const std::chrono::milliseconds kernel_time_limit_;
  const std::string kernel_runner_;
  std::atomic<uint64_t> used_bytes_{0};  // the accounting, from several threads
  std::atomic<bool> stopping_{false};
};

}  // namespace rrto::server::host
