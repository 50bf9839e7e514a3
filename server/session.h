// One client connection's state on the server: the device it was placed on,
// the memory it allocated, and the maps from its client-minted ids to backend
// objects. Every call a client makes goes through one of the methods below,
// which check the client's ids and address ranges against this session alone
// before anything reaches the device.
//
// Kernel parameters are the backend's to check: the host backend refuses a
// pointer argument outside the session's memory and runs the kernel in the
// session's own kernel process (see server/README.md, "Isolation").
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "protocol/calls.h"
#include "server/allocation_table.h"
#include "server/backend.h"
#include "server/handle_map.h"
#include "server/replay_templates.h"
#include "server/speculation.h"

namespace rrto::server {

// What one session may hold at once; 0: no bound of its own. Going past one
// fails that call with CUDA_ERROR_OUT_OF_MEMORY, for that client alone.
struct SessionLimits {
  uint64_t memory_bytes = 0;    // device memory allocated
  uint64_t module_bytes = 0;    // module images loaded
  uint64_t template_bytes = 0;  // replay templates, as stored (TemplateStore::bytes)
  uint64_t handles = 0;         // modules, functions, streams and events
};

// What ending a session gave back, for the log.
struct ReleasedResources {
  size_t allocations = 0;
  uint64_t bytes = 0;
  size_t modules = 0, functions = 0, streams = 0, events = 0;
};

class Session {
 public:
  Session(uint64_t id, std::string peer_address);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  uint64_t id() const { return id_; }
  const std::string& peer_address() const { return peer_address_; }
  const std::string& client_name() const { return client_name_; }

  // A session is admitted once its Hello was accepted and it was placed on a
  // device; before that it can run no call.
  bool admitted() const { return device_ != nullptr; }
  // Fails when the device cannot open the session's view of it in address
  // window `window` (address_window.h).
  CUresult admit(Device& device, size_t device_index, uint64_t window, std::string client_name,
                 const SessionLimits& limits);
  size_t device_index() const { return device_index_; }
  uint64_t window() const { return window_; }
  Device* device() const { return device_; }
  // What its calls run on (Device::open_session).
  SessionDevice* view() const { return view_.device; }

  // Waits for the session's work, then frees everything it holds. Idempotent.
  ReleasedResources release();
  // Moves an admitted, idle session to another device (Device::move_memory):
  // its device addresses and handles stay valid there.
  CUresult move_to(Device& device, size_t device_index, std::string& why);

  // A kernel's failure (CUDA_ERROR_LAUNCH_FAILED or _LAUNCH_TIMEOUT) is
  // sticky, as in a GPU context: every later call of the session fails with
  // it. CUDA_SUCCESS until then.
  CUresult sticky_error() const { return sticky_; }
  void note_result(CUresult r) {
    if ((r == CUDA_ERROR_LAUNCH_FAILED || r == CUDA_ERROR_LAUNCH_TIMEOUT) && !sticky_) {
      sticky_ = r;
      sticky_reason_ = error_;
    }
  }
  // The answer to every call after that failure: sticky_error(), with why.
  CUresult refuse_after_failure();

  // Why the last call failed, in words for the client; empty if it did not
  // say. Cleared by begin_call().
  const std::string& error_message() const { return error_; }
  void begin_call() { error_.clear(); }

  // ------------------------------------------------------------ calls
  // Only for an admitted session: the dispatcher runs none before Hello.
  // `at`: 0, or the address it must have, inside the session's window.
  CUresult mem_alloc(uint64_t size, uint64_t at, uint64_t& dptr);
  CUresult mem_free(uint64_t dptr);
  CUresult mem_get_info(uint64_t& free, uint64_t& total);
  CUresult memcpy_htod(uint64_t dst, std::span<const uint8_t> payload, uint64_t stream);
  // `bytes` stays valid until the next call on the device.
  CUresult memcpy_dtoh(uint64_t src, uint64_t size, uint64_t stream, std::span<const uint8_t>& bytes);
  CUresult memcpy_dtod(uint64_t dst, uint64_t src, uint64_t size, uint64_t stream);
  CUresult memset(uint64_t dst, uint32_t value, uint32_t element_size, uint64_t count, uint64_t stream);
  // 2D copies and memsets (session_copy_2d.cpp): `rows` is the upload's
  // rows packed; `bytes` as for memcpy_dtoh.
  CUresult memcpy_2d_htod(const proto::Memcpy2DHtoD& call, std::span<const uint8_t> rows);
  CUresult memcpy_2d_dtoh(const proto::Memcpy2DDtoH& call, std::span<const uint8_t>& bytes);
  CUresult memcpy_2d_dtod(const proto::Memcpy2DDtoD& call);
  CUresult memset_2d(const proto::Memset2D& call);

  CUresult module_load(uint64_t module, std::span<const uint8_t> image);
  CUresult module_unload(uint64_t module);
  // client_layout: (offset, size) u32 pairs, as the client parsed them from the image.
  CUresult module_get_function(uint64_t module, uint64_t function, std::string_view name,
                               std::span<const uint8_t> client_layout);
  CUresult module_get_global(uint64_t module, std::string_view name, uint64_t& dptr, uint64_t& size);
  CUresult function_get_attribute(uint64_t function, int32_t attribute, int32_t& value);
  CUresult function_set_attribute(uint64_t function, int32_t attribute, int32_t value);
  CUresult function_set_cache_config(uint64_t function, int32_t config);
  CUresult tensor_map_encode(const proto::TensorMapEncode& call, std::array<uint8_t, proto::kTensorMapBytes>& map);
  CUresult launch(uint64_t function, const LaunchGeometry& geometry, uint64_t stream, std::span<const uint8_t> params);

  CUresult stream_create(uint64_t stream, uint32_t flags, int32_t priority);
  CUresult stream_destroy(uint64_t stream);
  CUresult stream_synchronize(uint64_t stream);
  CUresult stream_query(uint64_t stream);
  CUresult stream_wait_event(uint64_t stream, uint64_t event, uint32_t flags);

  CUresult event_create(uint64_t event, uint32_t flags);
  CUresult event_destroy(uint64_t event);
  CUresult event_record(uint64_t event, uint64_t stream);
  CUresult event_synchronize(uint64_t event);
  CUresult event_query(uint64_t event);
  CUresult event_elapsed(uint64_t start, uint64_t end, float& milliseconds);

  CUresult ctx_synchronize();

  // Called once the batch is done, before its message buffers go away.
  CUresult finish_batch();

  // Where a payload of `size` bytes for `dst` may be received directly: the
  // device's host address of the range if it is this session's memory and the
  // device has one, else nullptr.
  uint8_t* direct_destination(uint64_t dst, uint64_t size);

  const AllocationTable& allocations() const { return allocations_; }
  // What counts against limits.session_memory_mb: the allocations and the
  // device memory of the modules' variables where the backend places them.
  uint64_t memory_bytes() const { return allocations_.allocated_bytes() + module_memory_bytes_; }

  TemplateStore& templates() { return templates_; }
  const TemplateStore& templates() const { return templates_; }
  Speculation& speculation() { return speculation_; }

  // Sets the message for the client, logs it at warn and returns `code`.
  template <typename... Args>
  CUresult fail(CUresult code, fmt::format_string<Args...> format, Args&&... args) {
    return fail_with(code, fmt::format(format, std::forward<Args>(args)...));
  }

 private:
  struct Function {
    FunctionHandle handle;
    uint64_t module = 0;
    std::string name;
    ParamLayout layout;
  };

  CUresult fail_with(CUresult code, std::string message);
  // The backend failed the session's queued work: its reason (which it
  // logged) for the client, else `fallback`, logged here.
  CUresult backend_failed(CUresult code, std::string_view fallback);
  // CUDA_ERROR_OUT_OF_MEMORY once the session holds limits_.handles handles.
  CUresult check_handle_room(std::string_view what);
  // The launch attributes' values, and a cluster that divides the grid.
  CUresult check_launch_attributes(const Function& f, const LaunchGeometry& geometry);
  CUresult check_range(std::string_view what, uint64_t p, uint64_t n);
  // `height` (> 0) rows of `width` bytes, `pitch` apart, from `base`: inside one allocation.
  CUresult check_rows(std::string_view what, uint64_t base, uint64_t pitch, uint64_t width, uint64_t height);
  CUresult resolve_stream(uint64_t id, StreamHandle& stream);
  CUresult resolve_event(uint64_t id, EventHandle& event);

  const uint64_t id_;
  const std::string peer_address_;
  std::string client_name_;
  Device* device_ = nullptr;
  SessionView view_;
  size_t device_index_ = 0;
  uint64_t window_ = 0;  // address_window.h
  CUresult sticky_ = CUDA_SUCCESS;
  std::string sticky_reason_;
  SessionLimits limits_;
  uint64_t module_bytes_ = 0;         // images of the modules loaded
  uint64_t module_memory_bytes_ = 0;  // their variables' device memory (module_memory_bytes)

  AllocationTable allocations_;
  struct Module {
    ModuleHandle handle;
    uint64_t image_bytes = 0;
    uint64_t memory_bytes = 0;
  };
  HandleMap<Module> modules_;
  HandleMap<Function> functions_;
  HandleMap<StreamHandle> streams_;
  HandleMap<EventHandle> events_;
  TemplateStore templates_;
  Speculation speculation_;
  std::string error_;
};

}  // namespace rrto::server
