// launch_attributes: kernel and launch attributes. Each iteration uploads an
// input, runs a kernel with 64 KiB of dynamic shared memory (allowed by
// cudaFuncSetAttribute(cudaFuncAttributeMaxDynamicSharedMemorySize), set again
// every iteration as some libraries do), one launched by cudaLaunchKernelEx in
// clusters of two blocks, one by cudaLaunchKernelEx with the cooperative
// attribute and one by cudaLaunchCooperativeKernel, and copies the result
// back; it must equal the CPU's exactly, in every iteration (so that a
// replaying client replays them). Runs unchanged on a GPU (compute capability
// 9.0) or through RRTO's libcuda.so.1.
//
// Exit status: 0 every check passed, 1 a check failed, 2 an unexpected CUDA error.
#include <cstdio>
#include <vector>

#include "examples/cudart/cudart_util.h"
#include "launch_attribute_kernels.cu"

namespace {

using examples::check_rt;
using namespace launch_attributes;

constexpr int kThreads = 128, kBlocks = 4, kN = kThreads * kBlocks;
constexpr int kSharedBytes = 64 * 1024;  // past the default 48 KiB
constexpr int kIterations = 6;

unsigned input_at(int i, int iteration) { return static_cast<unsigned>(i * 2654435761u + iteration * 97u); }

std::vector<unsigned> reference(int iteration) {
  const unsigned k = 3u + iteration, add = 11u * iteration, salt = 0x5a5a0000u + iteration;
  std::vector<unsigned> v(kN);
  for (int i = 0; i < kN; ++i) {
    unsigned x = input_at(i, iteration) * k + static_cast<unsigned>(i);
    x = x + add + static_cast<unsigned>(i / kThreads);
    x = (x * x) ^ salt;
    x = (x * x) ^ (salt + 1);
    v[i] = x;
  }
  return v;
}

cudaError_t launch_in_clusters(cudaStream_t stream, unsigned* v, unsigned add) {
  cudaLaunchAttribute cluster[1];
  cluster[0].id = cudaLaunchAttributeClusterDimension;
  cluster[0].val.clusterDim.x = 2;
  cluster[0].val.clusterDim.y = 1;
  cluster[0].val.clusterDim.z = 1;
  cudaLaunchConfig_t config = {};
  config.gridDim = dim3(kBlocks);
  config.blockDim = dim3(kThreads);
  config.stream = stream;
  config.attrs = cluster;
  config.numAttrs = 1;
  return cudaLaunchKernelEx(&config, offset_by_block, v, kN, add);
}

cudaError_t launch_cooperatively(cudaStream_t stream, unsigned* v, unsigned salt) {
  cudaLaunchAttribute cooperative[1];
  cooperative[0].id = cudaLaunchAttributeCooperative;
  cooperative[0].val.cooperative = 1;
  cudaLaunchConfig_t config = {};
  config.gridDim = dim3(kBlocks);
  config.blockDim = dim3(kThreads);
  config.stream = stream;
  config.attrs = cooperative;
  config.numAttrs = 1;
  return cudaLaunchKernelEx(&config, square_xor, v, kN, salt);
}

int one_iteration(cudaStream_t stream, const unsigned* in, unsigned* v, int iteration) {
  std::vector<unsigned> host(kN);
  for (int i = 0; i < kN; ++i) host[i] = input_at(i, iteration);
  unsigned k = 3u + iteration, add = 11u * iteration, salt = 0x5a5a0000u + iteration, salt2 = salt + 1;
  int n = kN;
  void* args[] = {&v, &n, &salt2};
  if (!check_rt(cudaMemcpyAsync(const_cast<unsigned*>(in), host.data(), kN * sizeof(unsigned), cudaMemcpyHostToDevice,
                                stream),
                "cudaMemcpyAsync (to the device)") ||
      !check_rt(cudaFuncSetAttribute(staged_scale, cudaFuncAttributeMaxDynamicSharedMemorySize, kSharedBytes),
                "cudaFuncSetAttribute"))
    return 2;
  staged_scale<<<kBlocks, kThreads, kSharedBytes, stream>>>(in, v, kN, k);
  if (!check_rt(cudaGetLastError(), "staged_scale<<<>>>") ||
      !check_rt(launch_in_clusters(stream, v, add), "cudaLaunchKernelEx (clusters)") ||
      !check_rt(launch_cooperatively(stream, v, salt), "cudaLaunchKernelEx (cooperative)") ||
      !check_rt(cudaLaunchCooperativeKernel(reinterpret_cast<const void*>(square_xor), dim3(kBlocks), dim3(kThreads),
                                            args, 0, stream),
                "cudaLaunchCooperativeKernel") ||
      !check_rt(cudaMemcpyAsync(host.data(), v, kN * sizeof(unsigned), cudaMemcpyDeviceToHost, stream),
                "cudaMemcpyAsync (to the host)") ||
      !check_rt(cudaStreamSynchronize(stream), "cudaStreamSynchronize"))
    return 2;
  const std::vector<unsigned> expected = reference(iteration);
  for (int i = 0; i < kN; ++i) {
    if (host[i] != expected[i]) {
      std::fprintf(stderr, "launch_attributes: iteration %d: element %d is %u, expected %u\n", iteration, i, host[i],
                   expected[i]);
      return 1;
    }
  }
  return 0;
}

}  // namespace

int main() {
  examples::program = "launch_attributes";
  cudaStream_t stream = nullptr;
  unsigned *in = nullptr, *v = nullptr;
  if (!check_rt(cudaStreamCreate(&stream), "cudaStreamCreate") ||
      !check_rt(cudaMalloc(&in, kN * sizeof(unsigned)), "cudaMalloc") ||
      !check_rt(cudaMalloc(&v, kN * sizeof(unsigned)), "cudaMalloc"))
    return 2;
  for (int iteration = 0; iteration < kIterations; ++iteration) {
    if (const int rc = one_iteration(stream, in, v, iteration)) return rc;
  }
  cudaFree(in);
  cudaFree(v);
  cudaStreamDestroy(stream);
  std::printf("launch_attributes: %d iterations exact, all checks passed\n", kIterations);
  return 0;
}
