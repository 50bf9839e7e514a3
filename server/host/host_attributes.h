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

}  // namespace rrto::server::host
