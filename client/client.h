// The client's state: connection, device description, and the tables of
// everything the program created. One instance per process.
#pragma once

#include <cuda.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "client/handles.h"
#include "client/module_image/module_image.h"
#include "client/op_recorder.h"
#include "client/operators.h"
#include "client/remote.h"
#include "client/replayer.h"

namespace rrto::client {

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

struct Function {
  uint64_t handle = 0;
  Module* module = nullptr;
  const KernelInfo* kernel = nullptr;
  const KernelDef* def = nullptr;  // the kernel's identity in recorded ops
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

struct DeviceInfo {
  std::string name;
  CUuuid uuid{};
  uint64_t total_memory = 0;
  int pci_domain = 0, pci_bus = 0, pci_device = 0;
  std::vector<int32_t> attributes;  // indexed by CUdevice_attribute
  int driver_version = 0;
};

// Feeds an operator to the replayer and queues what it asks for in return,
// right before the operator's own call is queued or sent.
template <typename Call>
void show_replayer(Replayer& replayer, Remote& remote, const Call& call, const Op& op) {
  replayer.on_op(op, call, remote.mark());
  if (!replayer.control().empty()) {
    remote.defer_encoded(replayer.control());
    replayer.control().clear();
  }
}

class Client {
 public:
  // Connects and fetches the device description; runs once per process.
  CUresult init();
  bool initialized() const { return initialized_.load(std::memory_order_acquire); }

  std::mutex mutex;  // guards everything below and the connection
  Remote remote;
  OpRecorder recorder;
  Replayer replayer;
  DeviceInfo device;

  HandleTable<Context, HandleKind::Context> contexts;
  HandleTable<Module, HandleKind::Module> modules;
  HandleTable<Function, HandleKind::Function> functions;
  HandleTable<Stream, HandleKind::Stream> streams;
  HandleTable<Event, HandleKind::Event> events;

  uint64_t primary_context = 0;  // handle, created on first retain
  int primary_refcount = 0;
  unsigned primary_flags = 0;

  std::map<CUdeviceptr, size_t> device_allocations;  // base -> size
  std::map<const void*, size_t> host_allocations;    // pinned (page-locked) host memory

  // Streams with work sent to the server whose completion nobody has waited
  // for yet; a synchronisation with nothing queued and nothing here is
  // answered locally.
  std::set<uint64_t> unsynced_streams;

  // Every operator passes here, with the lock held, right before its call
  // is queued or sent: `op` is the recorder's view of `call` (op_of()).
  template <typename Call>
  void on_operator(const Call& call, const Op& op) {
    recorder.record(op);
    show_replayer(replayer, remote, call, op);
  }

  // The device allocation holding [p, p+size), or end().
  std::map<CUdeviceptr, size_t>::const_iterator find_allocation(CUdeviceptr p, size_t size = 1) const;

 private:
  CUresult connect_and_hello();

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
