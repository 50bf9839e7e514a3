// Kernel launches: the arguments are packed into the kernel's parameter
// layout (learned from its module image) and queued.
#include <cstring>

#include "client/api/api.h"
#include "protocol/launch_attributes.h"

using namespace rrto::client;
namespace proto = rrto::proto;

long rrto::client::pack_params(const rrto::KernelInfo& kernel, void** kernel_params, void** extra, uint8_t* buffer) {
  if (kernel.param_bytes > kMaxParamBytes) return -1;
  if (kernel_params) {
    for (size_t i = 0; i < kernel.params.size(); ++i) {
      if (!kernel_params[i]) return -1;
      std::memcpy(buffer + kernel.params[i].offset, kernel_params[i], kernel.params[i].size);
    }
    return kernel.param_bytes;
  }
  if (extra) {
    const void* data = nullptr;
    size_t size = 0;
    for (size_t i = 0; extra[i] != CU_LAUNCH_PARAM_END; i += 2) {
      if (extra[i] == CU_LAUNCH_PARAM_BUFFER_POINTER)
        data = extra[i + 1];
      else if (extra[i] == CU_LAUNCH_PARAM_BUFFER_SIZE && extra[i + 1])
        size = *static_cast<const size_t*>(extra[i + 1]);
      else
        return -1;
    }
    if (!data || size < kernel.param_bytes || size > kMaxParamBytes) return -1;
    std::memcpy(buffer, data, size);
    return static_cast<long>(size);
  }
  return kernel.params.empty() ? 0 : -1;
}

namespace {

template <typename Call>
CUresult queue_launch(ClientState& state, Call& call, const Function& function) {
  if (CUresult r = CUDA_SUCCESS; taken_by_capture(state, call, true, r)) return r;
  if (const CUresult r = before_mapped_work(state, call.stream)) return r;
  if (state.on_operator(call, *function.def)) return CUDA_SUCCESS;
  note_stream_work(state, call.stream);
  return state.remote.defer(call);
}

// `attributes`: null for a launch without any (a plain Launch).
CUresult launch(Client& c, CUfunction f, const unsigned grid[3], const unsigned block[3], unsigned shared_mem,
                CUstream s, bool per_thread, void** kernel_params, void** extra,
                const proto::LaunchAttributes* attributes = nullptr) {
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  const auto& attr = c.device().attributes;
  if (!grid[0] || !grid[1] || !grid[2] || !block[0] || !block[1] || !block[2]) return CUDA_ERROR_INVALID_VALUE;
  if (uint64_t{block[0]} * block[1] * block[2] > static_cast<uint64_t>(attr[CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK]) ||
      block[0] > static_cast<unsigned>(attr[CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X]) ||
      block[1] > static_cast<unsigned>(attr[CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y]) ||
      block[2] > static_cast<unsigned>(attr[CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z]) ||
      grid[1] > static_cast<unsigned>(attr[CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y]) ||
      grid[2] > static_cast<unsigned>(attr[CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z]))
    return CUDA_ERROR_INVALID_VALUE;
  if (shared_mem > static_cast<unsigned>(attr[CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN]) &&
      shared_mem > static_cast<unsigned>(attr[CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK]))
    return CUDA_ERROR_INVALID_VALUE;

  auto state = c.lock();
  const Function* function = state->functions.find(f);
  if (!function || !valid_stream(*state, s)) return CUDA_ERROR_INVALID_HANDLE;

  uint8_t* params = state->launch_params.data();
  const long size = pack_params(*function->kernel, kernel_params, extra, params);
  if (size < 0) return CUDA_ERROR_INVALID_VALUE;
  const uint64_t stream = stream_id(s, per_thread);
  proto::Launch call{.function = function->handle,
                     .grid = {grid[0], grid[1], grid[2]},
                     .block = {block[0], block[1], block[2]},
                     .shared_mem = shared_mem,
                     .stream = stream,
                     .params = {params, static_cast<size_t>(size)}};
  if (!attributes) return queue_launch(*state, call, *function);
  proto::LaunchEx with_attributes{.function = call.function,
                                        .grid = {grid[0], grid[1], grid[2]},
                                        .block = {block[0], block[1], block[2]},
                                        .shared_mem = shared_mem,
                                        .stream = stream,
                                        .params = call.params,
                                        .attributes = *attributes};
  return queue_launch(*state, with_attributes, *function);
}

// cuLaunchKernelEx's attributes as a LaunchEx carries them (CU_LAUNCH_ATTRIBUTE_IGNORE
// dropped); none at all is a plain launch.
CUresult carried_attributes(const CUlaunchConfig& config, proto::LaunchAttributes& out) {
  if (config.numAttrs > 0 && !config.attrs) return CUDA_ERROR_INVALID_VALUE;
  for (unsigned i = 0; i < config.numAttrs; ++i) {
    const CUlaunchAttribute& a = config.attrs[i];
    const CUlaunchAttributeValue& v = a.value;
    switch (a.id) {
      case CU_LAUNCH_ATTRIBUTE_IGNORE: continue;
      case CU_LAUNCH_ATTRIBUTE_COOPERATIVE: out.cooperative = static_cast<uint32_t>(v.cooperative); break;
      case CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION:
        out.cluster[0] = v.clusterDim.x;
        out.cluster[1] = v.clusterDim.y;
        out.cluster[2] = v.clusterDim.z;
        break;
      case CU_LAUNCH_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE:
        out.cluster_scheduling = static_cast<uint32_t>(v.clusterSchedulingPolicyPreference);
        break;
      case CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION:
        out.programmatic_serialization = static_cast<uint32_t>(v.programmaticStreamSerializationAllowed);
        break;
      case CU_LAUNCH_ATTRIBUTE_PRIORITY: out.priority = v.priority; break;
      case CU_LAUNCH_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT: out.shared_memory_carveout = v.sharedMemCarveout; break;
      default: RRTO_NOT_SUPPORTED(cuLaunchKernelEx, "a launch attribute other than cooperative, cluster dimension, "
                                                    "cluster scheduling, programmatic serialization, priority and "
                                                    "shared memory carveout");
    }
    out.present |= proto::launch_attribute_bit(a.id);
  }
  return proto::valid_launch_attributes(out) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult launch_ex(Client& c, const CUlaunchConfig* config, CUfunction f, void** kernel_params, void** extra,
                   bool per_thread) {
  if (!config) return CUDA_ERROR_INVALID_VALUE;
  proto::LaunchAttributes attributes;
  if (CUresult r = carried_attributes(*config, attributes)) return r;
  const unsigned grid[3] = {config->gridDimX, config->gridDimY, config->gridDimZ};
  const unsigned block[3] = {config->blockDimX, config->blockDimY, config->blockDimZ};
  return launch(c, f, grid, block, config->sharedMemBytes, config->hStream, per_thread, kernel_params, extra,
                attributes.present ? &attributes : nullptr);
}

}  // namespace

CUresult api::cuLaunchKernel(Client& c, bool per_thread, CUfunction f, unsigned int gx, unsigned int gy,
                             unsigned int gz, unsigned int bx, unsigned int by, unsigned int bz,
                             unsigned int shared_mem, CUstream s, void** kernel_params, void** extra) {
  const unsigned grid[3] = {gx, gy, gz}, block[3] = {bx, by, bz};
  return launch(c, f, grid, block, shared_mem, s, per_thread, kernel_params, extra);
}

CUresult api::cuLaunchKernelEx(Client& c, bool per_thread, const CUlaunchConfig* config, CUfunction f,
                               void** kernel_params, void** extra) {
  return launch_ex(c, config, f, kernel_params, extra, per_thread);
}

CUresult api::cuLaunchCooperativeKernel(Client& c, bool per_thread, CUfunction f, unsigned int gx, unsigned int gy,
                                        unsigned int gz, unsigned int bx, unsigned int by, unsigned int bz,
                                        unsigned int shared_mem, CUstream s, void** kernel_params) {
  const unsigned grid[3] = {gx, gy, gz}, block[3] = {bx, by, bz};
  const proto::LaunchAttributes cooperative{.present = proto::launch_attribute_bit(CU_LAUNCH_ATTRIBUTE_COOPERATIVE),
                                            .cooperative = 1};
  return launch(c, f, grid, block, shared_mem, s, per_thread, kernel_params, nullptr, &cooperative);
}
