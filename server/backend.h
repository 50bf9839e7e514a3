// The device backend interface: a Device per device the server offers, and
// the SessionDevice each session works through (Device::open_session): a view
// of its own, as the host backend gives to keep sessions apart, or one the
// device's sessions share, as the cuda backend's GPU context.
//
// Every operation is pure virtual: a backend states what it does for each,
// and one that cannot do something returns CUDA_ERROR_NOT_SUPPORTED for it
// explicitly, so no operation is left out by accident. Operations return
// CUresult because that is what the protocol carries back to the client.
//
// A backend knows nothing about client ids: the session layer (session.h)
// maps each client's ids to the handles returned here, checks every address
// range against the client's own allocations before it reaches a backend, and
// destroys what a session created when it ends.
//
// A device's calls come from its executor thread (executor.h).
#pragma once

#include <cuda.h>

#include <array>
#include <memory>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/calls.h"

namespace rrto::server {

// Where one kernel parameter sits in the packed parameter buffer.
struct ParamSlot {
  uint32_t offset = 0;
  uint32_t size = 0;
  friend bool operator==(const ParamSlot&, const ParamSlot&) = default;
};
using ParamLayout = std::vector<ParamSlot>;

// What the client is told about the device its session is placed on.
struct DeviceDescription {
  std::string name;
  std::array<uint8_t, 16> uuid{};
  uint64_t total_memory = 0;
  int32_t driver_version = 0;
  int32_t pci_domain = 0, pci_bus = 0, pci_device = 0;
  std::array<int32_t, CU_DEVICE_ATTRIBUTE_MAX> attributes{};  // index = CUdevice_attribute
};

// Opaque handles to backend objects; what they point at is the backend's own.
template <typename Tag>
struct BackendHandle {
  void* ptr = nullptr;
  explicit operator bool() const { return ptr != nullptr; }
  friend bool operator==(const BackendHandle&, const BackendHandle&) = default;
};
using ModuleHandle = BackendHandle<struct ModuleTag>;
using FunctionHandle = BackendHandle<struct FunctionTag>;
// The null StreamHandle is the device's legacy default stream.
using StreamHandle = BackendHandle<struct StreamTag>;
using EventHandle = BackendHandle<struct EventTag>;

// A launch's attributes (cuLaunchKernelEx's), as the client sent them; the
// session layer has checked their values (proto::valid_launch_attributes).
using LaunchAttributes = proto::LaunchAttributes;

struct LaunchGeometry {
  uint32_t grid[3] = {1, 1, 1};
  uint32_t block[3] = {1, 1, 1};
  uint32_t shared_mem = 0;
  LaunchAttributes attributes;  // none: present == 0
};

class Device;

// What one session's calls do on its device.
class SessionDevice {
 public:
  virtual ~SessionDevice() = default;

  // ------------------------------------------------------------ memory
  // In the session's address `window`; `at`: 0, or the address the
  // allocation must have (a re-created session's; the session layer has
  // checked it lies in the window).
  virtual CUresult mem_alloc(uint64_t size, uint64_t window, uint64_t at, uint64_t& dptr) = 0;
  virtual CUresult mem_free(uint64_t dptr) = 0;
  virtual CUresult mem_get_info(uint64_t& free, uint64_t& total) = 0;

  // `src` is only valid until finish_batch(): a backend that copies
  // asynchronously must be done reading it by then.
  virtual CUresult copy_htod(uint64_t dst, const void* src, uint64_t size, StreamHandle stream) = 0;
  // Makes `size` bytes at `src` readable by the host once the work queued on
  // `stream` is done, and points `bytes` at them. The bytes stay valid until the
  // next call on this device (they go out as a reply's bulk).
  virtual CUresult copy_dtoh_for_reply(uint64_t src, uint64_t size, StreamHandle stream, const uint8_t*& bytes) = 0;
  // Whether those bytes stay valid until the session's next call (they are
  // the session's own memory) or only until the device's next call (a
  // staging buffer the device's sessions share).
  virtual bool reply_bytes_are_sessions() const = 0;
  virtual CUresult copy_dtod(uint64_t dst, uint64_t src, uint64_t size, StreamHandle stream) = 0;
  // element_size is 1, 2 or 4; count is in elements.
  virtual CUresult memset(uint64_t dst, uint32_t value, uint32_t element_size, uint64_t count, StreamHandle stream) = 0;
  // 2D copies and memsets over `height` rows of `width` bytes (memset_2d:
  // elements of element_size); a device side's row y starts at its address
  // + y * its pitch. The host side's rows are packed, `width` bytes apart:
  // `rows` (valid as copy_htod's `src`), and the reply's `bytes` (valid as
  // copy_dtoh_for_reply's). The session layer has checked every range.
  virtual CUresult copy_htod_2d(uint64_t dst, uint64_t dst_pitch, const void* rows, uint64_t width, uint64_t height,
                                StreamHandle stream) = 0;
  virtual CUresult copy_dtoh_2d_for_reply(uint64_t src, uint64_t src_pitch, uint64_t width, uint64_t height,
                                          StreamHandle stream, const uint8_t*& bytes) = 0;
  virtual CUresult copy_dtod_2d(uint64_t dst, uint64_t dst_pitch, uint64_t src, uint64_t src_pitch, uint64_t width,
                                uint64_t height, StreamHandle stream) = 0;
  virtual CUresult memset_2d(uint64_t dst, uint64_t pitch, uint32_t value, uint32_t element_size, uint64_t width,
                             uint64_t height, StreamHandle stream) = 0;
  // Device memory the host can write directly, so that a received payload can
  // land in it with no copy; nullptr when the device's memory is not host
  // memory. The range has been checked by the caller.
  virtual uint8_t* host_address(uint64_t dptr, uint64_t size) = 0;
  // The received message's buffers are about to be released.
  virtual CUresult finish_batch() = 0;
  // Why the session's queued work failed (a kernel fault, the time limit),
  // once it has, in words for the client; the backend logged it. Empty when
  // it has not, or has nothing to add to the error code.
  virtual const std::string& failure() const = 0;

  // ------------------------------------------------------------ modules
  virtual CUresult module_load(std::span<const uint8_t> image, ModuleHandle& module, std::string& error) = 0;
  virtual CUresult module_unload(ModuleHandle module) = 0;
  virtual CUresult module_get_function(ModuleHandle module, std::string_view name, FunctionHandle& function) = 0;
  // The kernel's parameter layout as the backend knows it; NOT_SUPPORTED when
  // it cannot tell (then the client's layout is trusted).
  virtual CUresult function_param_layout(FunctionHandle function, ParamLayout& layout) = 0;
  // Releases what module_get_function created (functions are never unloaded
  // by CUDA itself; a backend that allocated something for one frees it here).
  virtual void function_release(FunctionHandle function) = 0;
  virtual CUresult module_get_global(ModuleHandle module, std::string_view name, uint64_t& dptr, uint64_t& size) = 0;
  // The session's device memory the module's variables hold, where the
  // backend places them itself (host); 0 where the driver does.
  virtual uint64_t module_memory_bytes(ModuleHandle) const { return 0; }
  virtual CUresult function_get_attribute(FunctionHandle function, int32_t attribute, int32_t& value) = 0;
  // cuFuncSetAttribute and cuFuncSetCacheConfig: later launches of the
  // function run with the setting. The session layer has checked that the
  // attribute is settable and the configuration one CUDA has; a backend
  // checks the value against its device.
  virtual CUresult function_set_attribute(FunctionHandle function, int32_t attribute, int32_t value) = 0;
  virtual CUresult function_set_cache_config(FunctionHandle function, int32_t config) = 0;
  // cuTensorMapEncodeTiled or cuTensorMapEncodeIm2col, its arguments checked
  // (sizes, rank, an address of the session); NOT_SUPPORTED where there is no
  // driver to encode one.
  virtual CUresult tensor_map_encode(const proto::TensorMapEncode&, std::array<uint8_t, proto::kTensorMapBytes>&) {
    return CUDA_ERROR_NOT_SUPPORTED;
  }
  // `params` is the packed parameter buffer; `layout` has been checked to lie
  // inside it. On failure `error` may explain (it goes back to the client).
  virtual CUresult launch(FunctionHandle function, const LaunchGeometry& geometry, StreamHandle stream,
                          std::span<const uint8_t> params, const ParamLayout& layout, std::string& error) = 0;

  // ------------------------------------------------------------ streams
  virtual CUresult stream_create(uint32_t flags, int32_t priority, StreamHandle& stream) = 0;
  virtual CUresult stream_destroy(StreamHandle stream) = 0;
  virtual CUresult stream_synchronize(StreamHandle stream) = 0;
  virtual CUresult stream_query(StreamHandle stream) = 0;
  virtual CUresult stream_wait_event(StreamHandle stream, EventHandle event, uint32_t flags) = 0;

  // ------------------------------------------------------------ events
  virtual CUresult event_create(uint32_t flags, EventHandle& event) = 0;
  virtual CUresult event_destroy(EventHandle event) = 0;
  virtual CUresult event_record(EventHandle event, StreamHandle stream) = 0;
  virtual CUresult event_synchronize(EventHandle event) = 0;
  virtual CUresult event_query(EventHandle event) = 0;
  virtual CUresult event_elapsed(EventHandle start, EventHandle end, float& milliseconds) = 0;

  // ------------------------------------------------------------ device
  virtual CUresult synchronize() = 0;

  // Hands the session memory at `bases` (allocations made here) to `to`, a
  // device of the same backend, so that the same device addresses, and the
  // session's streams, events and modules, are valid there; this view then
  // works on `to`. Nothing changes unless it succeeds; otherwise `why` says
  // why the session cannot move.
  virtual CUresult move_memory(std::span<const uint64_t> bases, Device& to, std::string& why) = 0;
  // The session in address `window` has ended, its allocations freed: what
  // the device holds for the window goes.
  virtual void close_window(uint64_t window) = 0;
};

// The SessionDevice a session works through: its own, or one that the
// device's sessions share (then `own` is empty).
struct SessionView {
  std::unique_ptr<SessionDevice> own;
  SessionDevice* device = nullptr;
};

class Device {
 public:
  virtual ~Device() = default;

  virtual const DeviceDescription& description() const = 0;
  // The session's allocations will lie in address window `window`
  // (address_window.h); a device that cannot have that window says so in
  // the log and fails.
  virtual CUresult open_session(uint64_t session_id, uint64_t window, SessionView& view) = 0;
};

}  // namespace rrto::server
