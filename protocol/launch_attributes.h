// What a client may set on a function and a launch, checked alike by the
// client (before it queues the call) and the server (before it applies it).
#pragma once

#include <cuda.h>

#include <cstdint>

#include "protocol/calls.h"

namespace rrto::proto {

// The CUlaunchAttributeIDs a LaunchEx carries, each with its field of
// LaunchAttributes. CU_LAUNCH_ATTRIBUTE_IGNORE is dropped by the client.
#define RRTO_LAUNCH_ATTRIBUTES(X)                                               \
  X(CU_LAUNCH_ATTRIBUTE_COOPERATIVE)                                           \
  X(CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION)                                     \
  X(CU_LAUNCH_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE)                  \
  X(CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION)                     \
  X(CU_LAUNCH_ATTRIBUTE_PRIORITY)                                              \
  X(CU_LAUNCH_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT)

constexpr uint32_t launch_attribute_bit(int id) { return id >= 0 && id < 32 ? 1u << id : 0; }

// Every attribute a LaunchEx may carry.
inline constexpr uint32_t kCarriedLaunchAttributes = 0
#define RRTO_LAUNCH_ATTRIBUTE_BIT(id) | launch_attribute_bit(id)
    RRTO_LAUNCH_ATTRIBUTES(RRTO_LAUNCH_ATTRIBUTE_BIT)
#undef RRTO_LAUNCH_ATTRIBUTE_BIT
    ;

constexpr bool has(const LaunchAttributes& a, CUlaunchAttributeID id) { return (a.present & launch_attribute_bit(id)) != 0; }

// Whether the attributes' values are ones CUDA accepts, apart from what
// depends on the device or the launch (a cluster must divide the grid: the
// server checks that).
constexpr bool valid_launch_attributes(const LaunchAttributes& a) {
  if ((a.present & ~kCarriedLaunchAttributes) != 0) return false;
  if (has(a, CU_LAUNCH_ATTRIBUTE_COOPERATIVE) && a.cooperative > 1) return false;
  if (has(a, CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION) && a.programmatic_serialization > 1) return false;
  if (has(a, CU_LAUNCH_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE) &&
      a.cluster_scheduling > CU_CLUSTER_SCHEDULING_POLICY_LOAD_BALANCING)
    return false;
  if (has(a, CU_LAUNCH_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT) && a.shared_memory_carveout > 100) return false;
  if (has(a, CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION) && (a.cluster[0] == 0 || a.cluster[1] == 0 || a.cluster[2] == 0))
    return false;
  return true;
}

// The function attributes a program may set (cuFuncSetAttribute).
constexpr bool settable_function_attribute(int attribute) {
  switch (attribute) {
    case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES:
    case CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT:
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_WIDTH:
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_HEIGHT:
    case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_DEPTH:
    case CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED:
    case CU_FUNC_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE: return true;
    default: return false;
  }
}

// Whether `value` is one the settable `attribute` may take on a device whose
// blocks may opt in to `max_shared_optin` bytes of shared memory.
constexpr bool valid_function_attribute_value(int attribute, int value, int max_shared_optin) {
  switch (attribute) {
    case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES: return value >= 0 && value <= max_shared_optin;
    case CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT: return value >= -1 && value <= 100;
    default: return value >= 0;
  }
}

constexpr bool valid_cache_config(int config) {
  return config == CU_FUNC_CACHE_PREFER_NONE || config == CU_FUNC_CACHE_PREFER_SHARED ||
         config == CU_FUNC_CACHE_PREFER_L1 || config == CU_FUNC_CACHE_PREFER_EQUAL;
}

}  // namespace rrto::proto
