// One session's view of a host device (HostDevice::open_session): its own
// memory (session_memory.h) and its own kernel process (kernel_process.h),
// which runs its kernels, with its own copies of the libraries' globals.
// Launches are checked here and queued; the queue goes to the kernel process
// as one run when something needs its result (a copy, a synchronisation, the
// end of the batch). A kernel that faults or runs past the time limit ends
// the kernel process and fails the session's later work for good, as a GPU
// context does.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/backend.h"
#include "server/host/kernel_channel.h"
#include "server/host/kernel_process.h"
#include "server/host/session_memory.h"

namespace rrto::server::host {

class HostDevice;

class HostSessionDevice final : public SessionDevice {
 public:
  HostSessionDevice(HostDevice& device, uint64_t session_id, std::unique_ptr<SessionMemory> memory);
  ~HostSessionDevice() override;

  CUresult mem_alloc(uint64_t size, uint64_t window, uint64_t at, uint64_t& dptr) override;
  CUresult mem_free(uint64_t dptr) override;
  CUresult mem_get_info(uint64_t& free, uint64_t& total) override;
  CUresult copy_htod(uint64_t dst, const void* src, uint64_t size, StreamHandle stream) override;
  CUresult copy_dtoh_for_reply(uint64_t src, uint64_t size, StreamHandle stream, const uint8_t*& bytes) override;
  bool reply_bytes_are_sessions() const override { return true; }  // sent from session memory
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
  uint8_t* host_address(uint64_t dptr, uint64_t size) override { return reinterpret_cast<uint8_t*>(dptr); }
  CUresult finish_batch() override { return run_queued(); }
  const std::string& failure() const override { return failure_; }

  CUresult module_load(std::span<const uint8_t> image, ModuleHandle& module, std::string& error) override;
  CUresult module_unload(ModuleHandle module) override;
  CUresult module_get_function(ModuleHandle module, std::string_view name, FunctionHandle& function) override;
  CUresult function_param_layout(FunctionHandle function, ParamLayout& layout) override;
  void function_release(FunctionHandle function) override;
  CUresult module_get_global(ModuleHandle module, std::string_view name, uint64_t& dptr, uint64_t& size) override;
  uint64_t module_memory_bytes(ModuleHandle module) const override;
  CUresult function_get_attribute(FunctionHandle function, int32_t attribute, int32_t& value) override;
  CUresult function_set_attribute(FunctionHandle function, int32_t attribute, int32_t value) override;
  CUresult function_set_cache_config(FunctionHandle function, int32_t config) override;
  CUresult launch(FunctionHandle function, const LaunchGeometry& geometry, StreamHandle stream,
                  std::span<const uint8_t> params, const ParamLayout& layout, std::string& error) override;

  CUresult stream_create(uint32_t flags, int32_t priority, StreamHandle& stream) override;
  CUresult stream_destroy(StreamHandle stream) override;
  CUresult stream_synchronize(StreamHandle) override { return run_queued(); }
  CUresult stream_query(StreamHandle) override { return run_queued(); }
  CUresult stream_wait_event(StreamHandle, EventHandle, uint32_t) override { return run_queued(); }

  CUresult event_create(uint32_t flags, EventHandle& event) override;
  CUresult event_destroy(EventHandle event) override;
  CUresult event_record(EventHandle event, StreamHandle stream) override;
  CUresult event_synchronize(EventHandle) override { return run_queued(); }
  CUresult event_query(EventHandle) override { return run_queued(); }
  CUresult event_elapsed(EventHandle start, EventHandle end, float& milliseconds) override;

  CUresult synchronize() override { return run_queued(); }
  // Moves the accounting of the session's memory to `to`, another host device.
  CUresult move_memory(std::span<const uint64_t> bases, Device& to, std::string& why) override;
  void close_window(uint64_t) override {}  // the memory goes with this view

 private:
  CUresult check_pointers(const struct HostFunction& f, std::span<const uint8_t> params, std::string& error) const;
  // What a GPU would refuse of a launch's shared memory and attributes.
  CUresult check_launch_settings(const struct HostFunction& f, const LaunchGeometry& geometry,
                                 std::string& error) const;
  // Hands the queued launches to the kernel process and waits for them.
  CUresult run_queued();
  CUresult start_process();
  CUresult fail_run(CUresult code, const std::string& why);
  // The image's device variables, each in memory of its own holding its
  // initial contents; none when the image is not one the parser reads.
  CUresult allocate_module_globals(ModuleHandle module, std::span<const uint8_t> image, std::string& error);
  void free_module_globals(ModuleHandle module);
  bool registered_global(std::string_view name) const;  // by a host-kernel library

  struct ModuleGlobal {
    uint64_t dptr = 0;
    uint64_t size = 0;
  };
  using ModuleGlobals = std::map<std::string, ModuleGlobal, std::less<>>;

  HostDevice* device_;  // changed by move_memory
  const uint64_t session_id_;
  std::unique_ptr<SessionMemory> memory_;
  std::unique_ptr<KernelProcess> process_;
  CUresult failed_ = CUDA_SUCCESS;  // sticky once a kernel failed
  std::string failure_;              // and why

  std::map<const void*, ModuleGlobals> module_globals_;               // by module, made at its load
  std::map<std::pair<uint32_t, uint32_t>, uint64_t> global_copies_;  // registry position -> copy, made at start
  std::vector<kernel_channel::GlobalBinding> new_bindings_;         // not yet told to the process
  std::vector<uint8_t> queued_;                                     // LaunchRecords and parameters
  uint32_t queued_launches_ = 0;
  uint64_t queued_blocks_ = 0;
  std::vector<uint8_t> message_;  // the run being sent
  std::vector<uint8_t> gathered_rows_;  // a 2D copy back's rows, packed for the reply
};

}  // namespace rrto::server::host
