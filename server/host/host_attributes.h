// What the emulated host device reports about itself: an H100-like set of
// device attributes (compute capability 9.0) so that cudart and applications
// that read ~110 attributes at start-up see plausible values, and a UUID that
// stays the same from run to run.
#pragma once

#include <string_view>

#include "server/backend.h"

namespace rrto::server::host {

// Fills everything but the name.
void describe_host_device(size_t index, std::string_view name, uint64_t total_memory, DeviceDescription& out);

// Function attributes of a kernel run on the host (CUfunction_attribute);
// false for an attribute that does not exist.
bool host_function_attribute(int32_t attribute, int32_t& value);

// The most blocks a cluster may have: portable, and with
// CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED (as an H100's).
inline constexpr uint64_t kMaxPortableClusterBlocks = 8;
inline constexpr uint64_t kMaxNonPortableClusterBlocks = 16;

// How many blocks of `threads` threads and `shared_mem` bytes of dynamic
// shared memory the host device holds at once, as a GPU of its attributes
// would: the bound on a cooperative launch's grid.
uint64_t host_resident_blocks(uint32_t threads, uint32_t shared_mem);

}  // namespace rrto::server::host
