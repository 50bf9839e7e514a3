// Host memory mapped for the device (cuMemHostAlloc with
// CU_MEMHOSTALLOC_DEVICEMAP, cuMemHostRegister with
// CU_MEMHOSTREGISTER_DEVICEMAP) and registered host memory.
//
// The device is remote, so a mapped range cannot be shared with it: each gets
// a shadow, an ordinary device allocation of its size in the session, whose
// address is the range's device pointer. The client keeps the two coherent at
// the points where CUDA makes device writes visible to the host and host
// writes visible to the device (client/README.md, "Mapped host memory"):
//
// - before device work that may read a mapped range (a launch, a copy or
//   memset touching a shadow), every range's host bytes are uploaded into
//   its shadow, queued right before that work, unless work since the last
//   download may already have written the shadows;
// - after the program synchronises with such work, every shadow the device
//   may write is downloaded, and the bytes the device changed since the
//   upload land in the host range; bytes it left alone keep whatever the host
//   wrote meanwhile.
//
// Nothing here runs while no range is mapped.
#pragma once

#include <cuda.h>

#include <cstdint>
#include <map>
#include <vector>

namespace rrto::client {

struct ClientState;

struct HostRange {
  size_t size = 0;
  unsigned flags = 0;       // CU_MEMHOSTALLOC_* or CU_MEMHOSTREGISTER_*
  bool registered = false;  // cuMemHostRegister: the program's memory, not ours to free
  CUdeviceptr shadow = 0;   // 0: not mapped
  // The shadow's bytes as the client last uploaded or downloaded them, and
  // where a download lands before it is merged into the host range.
  std::vector<uint8_t> known, incoming;
};

class MappedMemory {
 public:
  // Whether any range is mapped: the only check on a call's path otherwise.
  bool none_mapped() const { return mapped_ == 0; }

  // Registered and mapped ranges, by host address.
  std::map<const void*, HostRange>& ranges() { return ranges_; }
  // The range holding host address p, or nullptr.
  HostRange* find_host(const void* p);
  // The mapped range whose shadow holds p, and its host base; nullptr if none.
  std::pair<const void*, HostRange*> find_shadow(CUdeviceptr p);
  // Whether [p, p + size) meets a shadow.
  bool touches_shadow(CUdeviceptr p, size_t size) const;
  // Whether [p, p + size) meets a range.
  bool overlaps(const void* p, size_t size) const;

  void add(const void* host, HostRange range);
  // Forgets the range at `host` (nothing is freed): its shadow, or 0.
  CUdeviceptr remove(const void* host);

  // Work that may have written the shadows ran since the last download.
  bool device_may_have_written() const { return device_wrote_; }
  void set_device_may_have_written(bool wrote) { device_wrote_ = wrote; }

 private:
  std::map<const void*, HostRange> ranges_;
  size_t mapped_ = 0;
  bool device_wrote_ = false;
};

// Queues, before device work on `stream` that may touch mapped memory, the
// uploads of every mapped range (unless the shadows may be newer). The lock
// must be held.
CUresult upload_mapped_ranges(ClientState& state, uint64_t stream);
// After the program synchronised with `stream` (0: the whole context),
// brings the device's writes into the mapped ranges, if work that may have
// written them ran since the last download. The lock must be held.
CUresult download_mapped_ranges(ClientState& state, uint64_t stream);

}  // namespace rrto::client
