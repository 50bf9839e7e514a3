// Occupancy, computed here as the driver does: from the device's limits
// (fetched at cuInit) and the function's registers and shared memory (its
// attributes, asked of the server once). The server is never asked.
#include <algorithm>

#include "client/api/api.h"

using namespace rrto::client;

namespace {

// Registers are allocated per warp in units of this many.
constexpr int kRegisterAllocationUnit = 256;

struct FunctionLimits {
  int max_threads = 0;    // per block, for this function
  int registers = 0;      // per thread
  int static_shared = 0;  // bytes per block
};

CUresult function_limits(Client& c, CUfunction f, FunctionLimits& out) {
  if (const CUresult r = function_attribute(c, &out.max_threads, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, f);
      r != CUDA_SUCCESS)
    return r;
  if (const CUresult r = function_attribute(c, &out.registers, CU_FUNC_ATTRIBUTE_NUM_REGS, f); r != CUDA_SUCCESS)
    return r;
  return function_attribute(c, &out.static_shared, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, f);
}

int round_up(int value, int unit) { return unit > 0 ? (value + unit - 1) / unit * unit : value; }

// Shared memory one block takes on an SM: its own plus what the driver reserves.
long long shared_per_block(const Client& c, const FunctionLimits& f, size_t dynamic_shared) {
  return static_cast<long long>(f.static_shared) + static_cast<long long>(dynamic_shared) +
         c.device().attributes[CU_DEVICE_ATTRIBUTE_RESERVED_SHARED_MEMORY_PER_BLOCK];
}

// Blocks of `block_size` threads that fit on one SM at once.
int active_blocks(const Client& c, const FunctionLimits& f, int block_size, size_t dynamic_shared) {
  const auto& a = c.device().attributes;
  const int warp = std::max(1, a[CU_DEVICE_ATTRIBUTE_WARP_SIZE]);
  if (block_size <= 0 || block_size > f.max_threads) return 0;
  const int warps_per_block = (block_size + warp - 1) / warp;

  int blocks = a[CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR];
  blocks = std::min(blocks, a[CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR] / warp / warps_per_block);
  if (f.registers > 0) {
    if (f.registers * block_size > a[CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK]) return 0;
    const int per_warp = round_up(f.registers * warp, kRegisterAllocationUnit);
    blocks = std::min(blocks, a[CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR] / per_warp / warps_per_block);
  }
  const long long shared = shared_per_block(c, f, dynamic_shared);
  if (shared > a[CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR]) return 0;
  if (shared > 0)
    blocks = std::min<long long>(blocks, a[CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR] / shared);
  return std::max(blocks, 0);
}

CUresult max_active_blocks(Client& c, int* blocks, CUfunction f, int block_size, size_t dynamic_shared) {
  if (!blocks || block_size <= 0) return CUDA_ERROR_INVALID_VALUE;
  FunctionLimits limits;
  if (const CUresult r = function_limits(c, f, limits); r != CUDA_SUCCESS) return r;
  *blocks = active_blocks(c, limits, block_size, dynamic_shared);
  return CUDA_SUCCESS;
}

// The block size (a multiple of the warp size) that keeps the most threads
// resident, and the grid that fills the device with it.
CUresult max_potential_block_size(Client& c, int* min_grid_size, int* block_size, CUfunction f,
                                  CUoccupancyB2DSize dynamic_shared_of, size_t dynamic_shared, int block_size_limit) {
  if (!min_grid_size || !block_size) return CUDA_ERROR_INVALID_VALUE;
  FunctionLimits limits;
  if (const CUresult r = function_limits(c, f, limits); r != CUDA_SUCCESS) return r;
  const auto& a = c.device().attributes;
  const int warp = std::max(1, a[CU_DEVICE_ATTRIBUTE_WARP_SIZE]);
  int largest = std::min(limits.max_threads, a[CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK]);
  if (block_size_limit > 0) largest = std::min(largest, block_size_limit);
  int best_size = 0, best_blocks = 0;
  for (int size = largest / warp * warp; size > 0; size -= warp) {
    const size_t shared = dynamic_shared_of ? dynamic_shared_of(size) : dynamic_shared;
    const int blocks = active_blocks(c, limits, size, shared);
    if (blocks * size > best_blocks * best_size) {
      best_size = size;
      best_blocks = blocks;
    }
  }
  *block_size = best_size;
  *min_grid_size = best_blocks * a[CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT];
  return CUDA_SUCCESS;
}

// Thread block clusters (compute capability 9.0 on): the sizes every such
// device runs, and the larger ones a kernel may opt into.
constexpr int kPortableClusterSize = 8;
constexpr int kNonPortableClusterSize = 16;

// A cluster size the function asked for at compile or run time, or 0.
CUresult required_cluster_size(Client& c, CUfunction f, int& size) {
  int dims[3] = {};
  const int attributes[3] = {CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_WIDTH, CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_HEIGHT,
                             CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_DEPTH};
  for (int i = 0; i < 3; ++i)
    if (const CUresult r = function_attribute(c, &dims[i], attributes[i], f); r != CUDA_SUCCESS) return r;
  size = dims[0] > 0 ? dims[0] * std::max(dims[1], 1) * std::max(dims[2], 1) : 0;
  return CUDA_SUCCESS;
}

int config_cluster_size(const CUlaunchConfig& config) {
  for (unsigned i = 0; i < config.numAttrs; ++i) {
    const CUlaunchAttribute& a = config.attrs[i];
    if (a.id == CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION)
      return static_cast<int>(a.value.clusterDim.x * a.value.clusterDim.y * a.value.clusterDim.z);
  }
  return 0;
}

int config_block_size(const CUlaunchConfig& config) {
  return static_cast<int>(config.blockDimX * config.blockDimY * config.blockDimZ);
}

}  // namespace

CUresult api::cuOccupancyMaxActiveBlocksPerMultiprocessor(Client& c, int* blocks, CUfunction f, int block_size,
                                                          size_t dynamic_shared) {
  return max_active_blocks(c, blocks, f, block_size, dynamic_shared);
}

// The flags only disable the driver's caching override, which has no
// counterpart here.
CUresult api::cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(Client& c, int* blocks, CUfunction f, int block_size,
                                                                   size_t dynamic_shared, unsigned int) {
  return max_active_blocks(c, blocks, f, block_size, dynamic_shared);
}

CUresult api::cuOccupancyMaxPotentialBlockSize(Client& c, int* min_grid_size, int* block_size, CUfunction f,
                                               CUoccupancyB2DSize dynamic_shared_of, size_t dynamic_shared,
                                               int block_size_limit) {
  return max_potential_block_size(c, min_grid_size, block_size, f, dynamic_shared_of, dynamic_shared, block_size_limit);
}

CUresult api::cuOccupancyMaxPotentialBlockSizeWithFlags(Client& c, int* min_grid_size, int* block_size, CUfunction f,
                                                        CUoccupancyB2DSize dynamic_shared_of, size_t dynamic_shared,
                                                        int block_size_limit, unsigned int) {
  return max_potential_block_size(c, min_grid_size, block_size, f, dynamic_shared_of, dynamic_shared, block_size_limit);
}

// The most dynamic shared memory each of `blocks` blocks can have with all of
// them resident on one SM.
CUresult api::cuOccupancyAvailableDynamicSMemPerBlock(Client& c, size_t* dynamic_shared, CUfunction f, int blocks,
                                                      int block_size) {
  if (!dynamic_shared || blocks <= 0 || block_size <= 0) return CUDA_ERROR_INVALID_VALUE;
  FunctionLimits limits;
  if (const CUresult r = function_limits(c, f, limits); r != CUDA_SUCCESS) return r;
  *dynamic_shared = 0;
  if (active_blocks(c, limits, block_size, 0) < blocks) return CUDA_SUCCESS;
  const auto& a = c.device().attributes;
  const long long per_block =
      a[CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR] / blocks - shared_per_block(c, limits, 0);
  const long long block_limit =
      static_cast<long long>(a[CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN]) - limits.static_shared;
  *dynamic_shared = static_cast<size_t>(std::max(0LL, std::min(per_block, block_limit)));
  return CUDA_SUCCESS;
}

// The largest cluster whose blocks can all be resident at once, capped at the
// portable size unless the kernel allows more.
CUresult api::cuOccupancyMaxPotentialClusterSize(Client& c, int* cluster_size, CUfunction f,
                                                 const CUlaunchConfig* config) {
  if (!cluster_size || !config) return CUDA_ERROR_INVALID_VALUE;
  FunctionLimits limits;
  if (const CUresult r = function_limits(c, f, limits); r != CUDA_SUCCESS) return r;
  int required = 0, non_portable = 0;
  if (const CUresult r = required_cluster_size(c, f, required); r != CUDA_SUCCESS) return r;
  if (const CUresult r = function_attribute(c, &non_portable, CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED, f);
      r != CUDA_SUCCESS)
    return r;
  const auto& a = c.device().attributes;
  if (!a[CU_DEVICE_ATTRIBUTE_CLUSTER_LAUNCH]) {
    *cluster_size = 0;
    return CUDA_SUCCESS;
  }
  if (required > 0) {
    *cluster_size = required;
    return CUDA_SUCCESS;
  }
  const int resident = active_blocks(c, limits, config_block_size(*config), config->sharedMemBytes) *
                       a[CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT];
  *cluster_size = std::min(non_portable ? kNonPortableClusterSize : kPortableClusterSize, resident);
  return CUDA_SUCCESS;
}

// Clusters of the configured (or required) size resident on the device at
// once, as the blocks' per-SM occupancy allows.
CUresult api::cuOccupancyMaxActiveClusters(Client& c, int* clusters, CUfunction f, const CUlaunchConfig* config) {
  if (!clusters || !config) return CUDA_ERROR_INVALID_VALUE;
  FunctionLimits limits;
  if (const CUresult r = function_limits(c, f, limits); r != CUDA_SUCCESS) return r;
  int required = 0;
  if (const CUresult r = required_cluster_size(c, f, required); r != CUDA_SUCCESS) return r;
  const int configured = config_cluster_size(*config);
  if (required > 0 && configured > 0 && required != configured) return CUDA_ERROR_INVALID_CLUSTER_SIZE;
  const int size = required > 0 ? required : configured;
  const auto& a = c.device().attributes;
  if (size <= 0 || size > kNonPortableClusterSize || (size > 1 && !a[CU_DEVICE_ATTRIBUTE_CLUSTER_LAUNCH]))
    return CUDA_ERROR_INVALID_CLUSTER_SIZE;
  const int resident = active_blocks(c, limits, config_block_size(*config), config->sharedMemBytes) *
                       a[CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT];
  *clusters = resident / size;
  return CUDA_SUCCESS;
}
