// What the server and a session's kernel process (rrto-kernel-runner, see
// kernel_process.h) say to each other over their socket. Both ends are built
// from this tree, so the structures are sent as they are in memory.
//
//   server -> runner   RunHeader, GlobalBinding x bindings, then launches x
//                      (LaunchRecord, parameter bytes padded to 8)
//   runner -> server   RunResult, then message_bytes of text
#pragma once

#include <cstdint>

namespace rrto::server::host::kernel_channel {

// The runner's descriptors, set up by the server when it starts it.
inline constexpr int kMemoryFd = 3;  // the session's memory (SessionMemory's memfd)
inline constexpr int kSocketFd = 4;

inline constexpr uint32_t kRunMagic = 0x4e55524bu;  // "KRUN"
inline constexpr uint32_t kMaxBodyBytes = 64u << 20;
inline constexpr uint32_t kMaxMessageBytes = 4096;

struct RunHeader {
  uint32_t magic = kRunMagic;
  uint32_t bindings = 0;  // new GlobalBindings, added to those of earlier runs
  uint32_t launches = 0;
  uint32_t body_bytes = 0;  // what follows the header
};

// A registered global's copy for the session (in session memory): the runner
// copies it into the library's variable before each run and back after.
struct GlobalBinding {
  uint32_t library = 0, index = 0;  // HostKernelRegistry::Position
  uint64_t copy = 0;
};

struct LaunchRecord {
  uint32_t library = 0, kernel = 0;  // HostKernelRegistry::Position
  uint32_t grid[3] = {1, 1, 1};
  uint32_t block[3] = {1, 1, 1};
  uint32_t param_bytes = 0;
  uint32_t reserved = 0;
};

inline constexpr uint32_t padded(uint32_t n) { return (n + 7u) & ~7u; }

struct RunResult {
  uint32_t launches_done = 0;  // the launches that completed, in order
  int32_t status = 0;          // rrto::Status of the launch after them, Ok when all did
  uint32_t message_bytes = 0;  // why it failed, at most kMaxMessageBytes
  uint32_t reserved = 0;
};

}  // namespace rrto::server::host::kernel_channel
