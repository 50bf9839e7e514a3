// The client's state: connection, device description, and the tables of
// everything the program created. One instance per process.
#pragma once

#include <cuda.h>

#include <array>
#include <atomic>
#include <bitset>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "client/failover.h"
#include "client/graphs.h"
#include "client/handles.h"
#include "client/mapped_memory.h"
#include "client/memory_pools.h"
#include "client/virtual_memory.h"
#include "client/op_recorder.h"
#include "client/operators.h"
#include "client/remote.h"
#include "client/replayer.h"
#include "module_image/module_image.h"

namespace rrto::client {

// The largest parameter buffer a kernel can have (CUDA 12.1 and later).
inline constexpr size_t kMaxParamBytes = 32764;

struct Context {
  uint64_t handle = 0;
  CUdevice device = 0;
  unsigned flags = 0;
  bool primary = false;
};

struct Function;

struct Module {
  uint64_t handle = 0;
  ModuleImage image;
  std::vector<uint64_t> functions;  // minted from this module, removed with it
};

// A function's attributes: each asked of the server once, then answered
// locally; the settable ones as the program set them.
struct FunctionAttributes {
  std::array<int32_t, CU_FUNC_ATTRIBUTE_MAX> value{};
  std::bitset<CU_FUNC_ATTRIBUTE_MAX> known;
};

struct Function {
  uint64_t handle = 0;
  Module* module = nullptr;
  const KernelInfo* kernel = nullptr;
  const KernelDef* def = nullptr;  // the kernel's identity in recorded ops
  FunctionAttributes attributes;
  CUfunc_cache cache_config = CU_FUNC_CACHE_PREFER_NONE;  // as the program set it
};

struct Stream {
  uint64_t handle = 0;
  unsigned flags = 0;
  int priority = 0;
};

struct Event {
  uint64_t handle = 0;
  unsigned flags = 0;
};

struct HostAllocation {
  size_t size = 0;
  unsigned flags = 0;  // CU_MEMHOSTALLOC_*
};

struct DeviceInfo {
  std::string name;
  CUuuid uuid{};
  uint64_t total_memory = 0;
  int pci_domain = 0, pci_bus = 0, pci_device = 0;
  std::vector<int32_t> attributes;  // indexed by CUdevice_attribute
  int driver_version = 0;
};

// Feeds an operator to the replayer and queues what it asks for in return,
// right before the operator's own call is queued or sent. True when a
// speculation answered the call (Replayer::on_op).
template <typename Call>
bool show_replayer(Replayer& replayer, Remote& remote, const Call& call, const Op& op) {
  const bool served = replayer.on_op(op, call, remote);
  if (!replayer.control().empty()) {
    remote.defer_encoded(replayer.control());
    replayer.control().clear();
  }
  return served;
}

// The driver's defaults of the context limits.
constexpr std::array<size_t, CU_LIMIT_MAX> default_limits() {
  std::array<size_t, CU_LIMIT_MAX> v{};
  v[CU_LIMIT_STACK_SIZE] = 1024;
  v[CU_LIMIT_PRINTF_FIFO_SIZE] = 1 << 20;
  v[CU_LIMIT_MALLOC_HEAP_SIZE] = 8 << 20;
  v[CU_LIMIT_DEV_RUNTIME_SYNC_DEPTH] = 2;
  v[CU_LIMIT_DEV_RUNTIME_PENDING_LAUNCH_COUNT] = 2048;
  v[CU_LIMIT_MAX_L2_FETCH_GRANULARITY] = 64;
  return v;
}

// Everything the program created, and the connection. Reached only through
// Client::lock(), so nothing here is touched without the lock.
struct ClientState {
  Remote remote;
  OpRecorder recorder;
  Replayer replayer;
  Failover failover;

  HandleTable<Context, HandleKind::Context> contexts;
  HandleTable<Module, HandleKind::Module> modules;
  HandleTable<Function, HandleKind::Function> functions;
  HandleTable<Stream, HandleKind::Stream> streams;
  HandleTable<Event, HandleKind::Event> events;
  Graphs graphs;  // captures, graphs, executable graphs

  uint64_t primary_context = 0;  // handle, created on first retain
  int primary_refcount = 0;
  unsigned primary_flags = 0;

  std::map<CUdeviceptr, size_t> device_allocations;  // base -> size
  std::map<const void*, HostAllocation> host_allocations;  // pinned (page-locked) host memory
  MappedMemory mapped;  // registered host memory, and host memory mapped for the device

  // Streams with work sent to the server whose completion nobody has waited
  // for yet; a synchronisation with nothing queued and nothing here is
  // answered locally.
  std::set<uint64_t> unsynced_streams;

  // Where a 2D copy back's packed rows land before they go to the
  // program's pitched rows; it only grows.
  std::vector<uint8_t> copy_back_rows;

  // The argument buffer of the launch being queued.
  std::array<uint8_t, kMaxParamBytes> launch_params;

  // Context settings kept in the client (cuCtxSetLimit, cuCtxSetCacheConfig).
  std::array<size_t, CU_LIMIT_MAX> limits = default_limits();
  CUfunc_cache cache_config = CU_FUNC_CACHE_PREFER_NONE;
  MemoryPools pools;
  VirtualMemory vmm;

  // Every operator passes here right before its call is queued or sent.
  // Its recorder view, op_of(call, context...), is built only when a trace
  // or the replayer will read it: rpc and async need none. True when a
  // speculation answered the call: the caller then neither queues nor sends
  // it, and a copy to the host takes replayer.served_output().
  template <typename Call, typename... Context>
  [[nodiscard]] bool on_operator(const Call& call, const Context&... context) {
    if (!recorder.active() && !replayer.enabled()) return false;
    const Op op = op_of(call, context...);
    recorder.record(op);
    return show_replayer(replayer, remote, call, op);
  }

  // The device allocation holding [p, p+size), or end().
  std::map<CUdeviceptr, size_t>::const_iterator find_allocation(CUdeviceptr p, size_t size = 1) const;
  // Whether [p, p+size) lies inside one device allocation.
  // Whether [p, p+size) lies inside one device allocation, or inside memory
  // mapped back to back into reserved ranges (client/virtual_memory.h).
  bool on_device(CUdeviceptr p, size_t size = 1) const {
    return find_allocation(p, size) != device_allocations.end() || (!vmm.mappings.empty() && in_mapped_run(p, size));
  }
  bool in_mapped_run(CUdeviceptr p, size_t size) const;
};

class Client {
 public:
  // Connects and fetches the device description; runs once per process.
  CUresult init();
  bool initialized() const { return initialized_.load(std::memory_order_acquire); }

  // The device the session runs on: written once by init(), read-only after.
  const DeviceInfo& device() const { return device_; }

  // The state, with the client lock held for as long as this lives.
  class Locked {
   public:
    ClientState* operator->() const { return &state_; }
    ClientState& operator*() const { return state_; }

   private:
    friend class Client;
    Locked(std::mutex& mutex, ClientState& state) : lock_(mutex), state_(state) {}
    std::unique_lock<std::mutex> lock_;
    ClientState& state_;
  };
  [[nodiscard]] Locked lock() { return Locked(mutex_, state_); }

 private:
  CUresult connect_and_hello();
  // What the session's device is, from the handshake's result.
  void describe_device(const proto::HelloResult& result);

  std::mutex mutex_;
  ClientState state_;
  DeviceInfo device_;
  std::once_flag init_once_;
  std::atomic<bool> initialized_{false};
  CUresult init_result_ = CUDA_ERROR_NOT_INITIALIZED;
};

Client& client();

// The current thread's context stack (top = current).
std::vector<uint64_t>& context_stack();

// The server-side id of a stream handle as seen by a call; `per_thread`
// is true for the _ptsz/_ptds entry points.
uint64_t stream_id(CUstream stream, bool per_thread);

}  // namespace rrto::client
