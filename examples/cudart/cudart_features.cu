// cudart_features: what a real inference program touches in the CUDA runtime
// beyond plain launches, each checked for the answer a GPU gives: device
// properties, stream priorities and limits, __constant__ symbols, function
// attributes and occupancy, pinned host memory and pointer queries,
// stream-ordered allocation, cudaLaunchKernelEx, and the error paths (a bad
// launch configuration, an impossible allocation, a device that is not there).
// Runs unchanged on a GPU or through RRTO's libcuda.so.1.
//
// Exit status: 0 every check passed, 1 a check failed, 2 an unexpected CUDA error.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cudart_features_kernels.cu"
#include "examples/cudart/cudart_util.h"

namespace {

using examples::check_rt;

constexpr int kN = 1000;
constexpr unsigned kBlock = 128;
constexpr float kCoefficients[4] = {1.0f, -2.0f, 0.5f, 0.25f};

int checks_passed = 0;

bool expect(bool condition, const std::string& what) {
  if (!condition) {
    std::fprintf(stderr, "%s: FAILED: %s\n", examples::program, what.c_str());
    return false;
  }
  ++checks_passed;
  std::printf("ok: %s\n", what.c_str());
  return true;
}

unsigned blocks_for(int n) { return (n + kBlock - 1) / kBlock; }

// Small integers and dyadic coefficients: every result is exact.
float polynomial_at(float x) {
  return ((kCoefficients[3] * x + kCoefficients[2]) * x + kCoefficients[1]) * x + kCoefficients[0];
}

int device_properties() {
  int count = 0;
  if (!check_rt(cudaGetDeviceCount(&count), "cudaGetDeviceCount")) return 2;
  if (!expect(count >= 1, "cudaGetDeviceCount reports a device")) return 1;
  cudaDeviceProp prop{};
  if (!check_rt(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties")) return 2;
  if (!expect(prop.name[0] != '\0' && prop.major >= 1 && prop.multiProcessorCount > 0 &&
                  prop.maxThreadsPerBlock >= 256 && prop.totalGlobalMem > 0 && prop.warpSize == 32,
              std::string("cudaGetDeviceProperties: ") + prop.name + ", compute capability " +
                  std::to_string(prop.major) + "." + std::to_string(prop.minor) + ", " +
                  std::to_string(prop.multiProcessorCount) + " SMs"))
    return 1;
  int value = 0;
  if (!check_rt(cudaDeviceGetAttribute(&value, cudaDevAttrMaxThreadsPerBlock, 0), "cudaDeviceGetAttribute")) return 2;
  if (!expect(value == prop.maxThreadsPerBlock, "cudaDeviceGetAttribute agrees with the properties")) return 1;
  return 0;
}

// What frameworks ask before their first launch: priorities, capture state, limits.
int streams_and_limits() {
  int least = 0, greatest = 0;
  if (!check_rt(cudaDeviceGetStreamPriorityRange(&least, &greatest), "cudaDeviceGetStreamPriorityRange")) return 2;
  cudaStream_t urgent = nullptr;
  if (!check_rt(cudaStreamCreateWithPriority(&urgent, cudaStreamNonBlocking, greatest), "cudaStreamCreateWithPriority"))
    return 2;
  int priority = 1;
  unsigned flags = 0;
  cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusActive;
  if (!check_rt(cudaStreamGetPriority(urgent, &priority), "cudaStreamGetPriority") ||
      !check_rt(cudaStreamGetFlags(urgent, &flags), "cudaStreamGetFlags") ||
      !check_rt(cudaStreamIsCapturing(urgent, &capturing), "cudaStreamIsCapturing"))
    return 2;
  if (!expect(least >= greatest && priority == greatest && flags == cudaStreamNonBlocking &&
                  capturing == cudaStreamCaptureStatusNone,
              "stream priority " + std::to_string(greatest) + " of [" + std::to_string(greatest) + ", " +
                  std::to_string(least) + "], flags and capture state read back"))
    return 1;
  size_t stack = 0;
  if (!check_rt(cudaDeviceSetLimit(cudaLimitStackSize, 4096), "cudaDeviceSetLimit") ||
      !check_rt(cudaDeviceGetLimit(&stack, cudaLimitStackSize), "cudaDeviceGetLimit"))
    return 2;
  if (!expect(stack == 4096, "cudaDeviceSetLimit/cudaDeviceGetLimit")) return 1;
  return check_rt(cudaStreamDestroy(urgent), "cudaStreamDestroy") ? 0 : 2;
}

// cudaMemcpyToSymbol, a kernel reading the symbol, cudaMemcpyFromSymbol.
int constant_symbol(cudaStream_t stream) {
  if (!check_rt(cudaMemcpyToSymbol(features::coefficients, kCoefficients, sizeof kCoefficients), "cudaMemcpyToSymbol"))
    return 2;
  float back[4] = {};
  if (!check_rt(cudaMemcpyFromSymbol(back, features::coefficients, sizeof back), "cudaMemcpyFromSymbol")) return 2;
  if (!expect(std::memcmp(back, kCoefficients, sizeof back) == 0, "cudaMemcpyFromSymbol reads back what was written"))
    return 1;

  std::vector<float> x(kN), y(kN);
  for (int i = 0; i < kN; ++i) x[i] = static_cast<float>(i % 7 - 3);
  float *dx = nullptr, *dy = nullptr;
  if (!check_rt(cudaMalloc(&dx, kN * sizeof(float)), "cudaMalloc") ||
      !check_rt(cudaMalloc(&dy, kN * sizeof(float)), "cudaMalloc"))
    return 2;
  if (!check_rt(cudaMemcpy(dx, x.data(), kN * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy")) return 2;
  features::polynomial<<<blocks_for(kN), kBlock, 0, stream>>>(dx, dy, kN);
  if (!check_rt(cudaGetLastError(), "polynomial<<<>>>")) return 2;
  if (!check_rt(cudaMemcpyAsync(y.data(), dy, kN * sizeof(float), cudaMemcpyDeviceToHost, stream), "cudaMemcpyAsync") ||
      !check_rt(cudaStreamSynchronize(stream), "cudaStreamSynchronize"))
    return 2;
  bool all = true;
  for (int i = 0; i < kN; ++i) all = all && y[i] == polynomial_at(x[i]);
  cudaFree(dx);
  cudaFree(dy);
  return expect(all, "a kernel reads the __constant__ coefficients") ? 0 : 1;
}

int attributes_and_occupancy() {
  cudaFuncAttributes attr{};
  if (!check_rt(cudaFuncGetAttributes(&attr, features::polynomial), "cudaFuncGetAttributes")) return 2;
  if (!expect(attr.maxThreadsPerBlock >= static_cast<int>(kBlock) && attr.numRegs >= 0 && attr.binaryVersion > 0,
              "cudaFuncGetAttributes: max threads " + std::to_string(attr.maxThreadsPerBlock) + ", registers " +
                  std::to_string(attr.numRegs)))
    return 1;
  int blocks = 0;
  if (!check_rt(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, features::polynomial, kBlock, 0),
                "cudaOccupancyMaxActiveBlocksPerMultiprocessor"))
    return 2;
  if (!expect(blocks >= 1, "cudaOccupancyMaxActiveBlocksPerMultiprocessor: " + std::to_string(blocks) + " blocks of " +
                               std::to_string(kBlock)))
    return 1;
  if (!check_rt(cudaFuncSetAttribute(features::polynomial, cudaFuncAttributePreferredSharedMemoryCarveout, 50),
                "cudaFuncSetAttribute"))
    return 2;
  if (!check_rt(cudaFuncGetAttributes(&attr, features::polynomial), "cudaFuncGetAttributes")) return 2;
  return expect(attr.preferredShmemCarveout == 50, "cudaFuncSetAttribute sets the carveout preference") ? 0 : 1;
}

int pinned_memory_and_pointers() {
  int* pinned = nullptr;
  int* device = nullptr;
  if (!check_rt(cudaMallocHost(&pinned, kN * sizeof(int)), "cudaMallocHost") ||
      !check_rt(cudaMalloc(&device, kN * sizeof(int)), "cudaMalloc"))
    return 2;
  cudaPointerAttributes attr{};
  if (!check_rt(cudaPointerGetAttributes(&attr, pinned), "cudaPointerGetAttributes(pinned)")) return 2;
  if (!expect(attr.type == cudaMemoryTypeHost, "cudaPointerGetAttributes: pinned memory is host memory")) return 1;
  if (!check_rt(cudaPointerGetAttributes(&attr, device + 10), "cudaPointerGetAttributes(device)")) return 2;
  if (!expect(attr.type == cudaMemoryTypeDevice && attr.device == 0 && attr.devicePointer == device + 10,
              "cudaPointerGetAttributes: inside a device allocation"))
    return 1;
  int unregistered = 0;
  if (!check_rt(cudaPointerGetAttributes(&attr, &unregistered), "cudaPointerGetAttributes(stack)")) return 2;
  if (!expect(attr.type == cudaMemoryTypeUnregistered, "cudaPointerGetAttributes: ordinary memory is unregistered"))
    return 1;

  for (int i = 0; i < kN; ++i) pinned[i] = 3 * i;
  if (!check_rt(cudaMemcpy(device, pinned, kN * sizeof(int), cudaMemcpyHostToDevice), "cudaMemcpy")) return 2;
  std::memset(pinned, 0, kN * sizeof(int));
  if (!check_rt(cudaMemcpy(pinned, device, kN * sizeof(int), cudaMemcpyDefault), "cudaMemcpy(default)")) return 2;
  bool all = true;
  for (int i = 0; i < kN; ++i) all = all && pinned[i] == 3 * i;
  if (!expect(all, "copies through pinned memory, cudaMemcpyDefault included")) return 1;
  cudaFree(device);
  return check_rt(cudaFreeHost(pinned), "cudaFreeHost") ? 0 : 2;
}

// cudaMallocAsync, cudaLaunchKernelEx and cudaFreeAsync on one stream.
int stream_ordered(cudaStream_t stream) {
  int* p = nullptr;
  if (!check_rt(cudaMallocAsync(&p, kN * sizeof(int), stream), "cudaMallocAsync")) return 2;
  cudaLaunchConfig_t config{};
  config.gridDim = dim3(blocks_for(kN));
  config.blockDim = dim3(kBlock);
  config.stream = stream;
  if (!check_rt(cudaLaunchKernelEx(&config, features::fill, p, kN, 7), "cudaLaunchKernelEx")) return 2;
  std::vector<int> out(kN);
  if (!check_rt(cudaMemcpyAsync(out.data(), p, kN * sizeof(int), cudaMemcpyDeviceToHost, stream), "cudaMemcpyAsync") ||
      !check_rt(cudaFreeAsync(p, stream), "cudaFreeAsync") ||
      !check_rt(cudaStreamSynchronize(stream), "cudaStreamSynchronize"))
    return 2;
  bool all = true;
  for (int i = 0; i < kN; ++i) all = all && out[i] == 7 + i;
  return expect(all, "cudaMallocAsync + cudaLaunchKernelEx + cudaFreeAsync") ? 0 : 1;
}

int error_paths(cudaStream_t stream) {
  int* p = nullptr;
  if (!check_rt(cudaMalloc(&p, kN * sizeof(int)), "cudaMalloc")) return 2;
  // More threads than a block can have. cudart hands the configuration to the
  // driver, whose error it reports: invalid configuration on current GPU
  // drivers, invalid value through RRTO (the driver API's documented answer).
  features::fill<<<1, 4096, 0, stream>>>(p, kN, 0);
  const cudaError_t bad = cudaGetLastError();
  if (!expect(bad == cudaErrorInvalidConfiguration || bad == cudaErrorInvalidValue,
              std::string("a 4096-thread block is refused (") + cudaGetErrorName(bad) + ")"))
    return 1;
  if (!expect(cudaGetLastError() == cudaSuccess, "cudaGetLastError clears the error")) return 1;

  void* huge = nullptr;
  const cudaError_t oom = cudaMalloc(&huge, size_t{1} << 50);
  if (!expect(
          oom == cudaErrorMemoryAllocation,
          std::string("a 1 PiB cudaMalloc fails with cudaErrorMemoryAllocation (got ") + cudaGetErrorName(oom) + ")"))
    return 1;
  cudaGetLastError();
  if (!expect(cudaSetDevice(64) == cudaErrorInvalidDevice, "cudaSetDevice(64) fails with cudaErrorInvalidDevice"))
    return 1;
  cudaGetLastError();

  // The context is still usable after the failures.
  features::fill<<<blocks_for(kN), kBlock, 0, stream>>>(p, kN, 1);
  if (!check_rt(cudaGetLastError(), "fill<<<>>>") || !check_rt(cudaDeviceSynchronize(), "cudaDeviceSynchronize"))
    return 2;
  int last = 0;
  if (!check_rt(cudaMemcpy(&last, p + kN - 1, sizeof last, cudaMemcpyDeviceToHost), "cudaMemcpy")) return 2;
  cudaFree(p);
  return expect(last == kN, "launches work after the errors") ? 0 : 1;
}

}  // namespace

int main() {
  examples::program = "cudart_features";
  if (!check_rt(cudaSetDevice(0), "cudaSetDevice(0)")) return 2;
  cudaStream_t stream = nullptr;
  if (!check_rt(cudaStreamCreate(&stream), "cudaStreamCreate")) return 2;
  for (int (*check)() : {device_properties, streams_and_limits, attributes_and_occupancy, pinned_memory_and_pointers}) {
    if (const int rc = check()) return rc;
  }
  for (int (*check)(cudaStream_t) : {constant_symbol, stream_ordered, error_paths}) {
    if (const int rc = check(stream)) return rc;
  }
  if (!check_rt(cudaStreamDestroy(stream), "cudaStreamDestroy") ||
      !check_rt(cudaDeviceSynchronize(), "cudaDeviceSynchronize"))
    return 2;
  std::printf("cudart_features: all %d checks passed\n", checks_passed);
  return 0;
}
