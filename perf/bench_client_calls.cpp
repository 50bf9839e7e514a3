// bench_client_calls: the client's CPU cost per intercepted call. A program
// shaped like an inference loop (input up, N small kernel launches, output
// down, one synchronisation) runs through whatever libcuda.so.1 is loaded;
// the time spent inside cuLaunchKernel and cuMemcpyHtoDAsync is measured in
// the steady state. In async and replay modes those calls never wait for the
// network, so their time is the client's own work per call.
//
//   LD_LIBRARY_PATH=build/lib RRTO_SERVER=host:port RRTO_MODE=replay \
//     bench_client_calls [--launches N] [--iterations N]
//
// This is a benchmark, not a test: it reports, it does not judge.
#include <cuda.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cnn_model.h"
#include "examples/common/example_util.h"

extern "C" const unsigned char rrto_cnn_fatbin[];

namespace {

using Clock = std::chrono::steady_clock;
using examples::check_cu;

double ns_since(Clock::time_point t) { return std::chrono::duration<double, std::nano>(Clock::now() - t).count(); }

}  // namespace

int main(int argc, char** argv) {
  examples::program = "bench_client_calls";
  int launches = 300, iterations = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    int* target = arg == "--launches" ? &launches : arg == "--iterations" ? &iterations : nullptr;
    if (!target || !examples::parse_positive(argv[i + 1], *target, 1 << 20)) {
      std::fprintf(stderr, "usage: bench_client_calls [--launches N] [--iterations N]\n");
      return 3;
    }
  }
  const int warmup = std::min(10, iterations / 2);

  CUdevice dev;
  CUcontext ctx;
  CUmodule module;
  CUfunction relu;
  CUstream stream;
  CUdeviceptr input, activations;
  const int n = 1024;
  std::vector<float> host_in(cnn::kImagePixels, 1.0f), host_out(n);
  if (!check_cu(cuInit(0), "cuInit") || !check_cu(cuDeviceGet(&dev, 0), "cuDeviceGet") ||
      !check_cu(cuDevicePrimaryCtxRetain(&ctx, dev), "cuDevicePrimaryCtxRetain") ||
      !check_cu(cuCtxSetCurrent(ctx), "cuCtxSetCurrent") ||
      !check_cu(cuModuleLoadData(&module, rrto_cnn_fatbin), "cuModuleLoadData") ||
      !check_cu(cuModuleGetFunction(&relu, module, cnn::kKernelNames[static_cast<int>(cnn::KernelId::Relu)].mangled),
                "cuModuleGetFunction(relu)") ||
      !check_cu(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate") ||
      !check_cu(cuMemAlloc(&input, host_in.size() * sizeof(float)), "cuMemAlloc") ||
      !check_cu(cuMemAlloc(&activations, n * sizeof(float)), "cuMemAlloc"))
    return 2;

  double launch_ns = 0, htod_ns = 0, iteration_ns = 0;
  std::vector<double> per_launch;
  for (int it = 0; it < iterations; ++it) {
    const auto start = Clock::now();
    if (!check_cu(cuMemcpyHtoDAsync(input, host_in.data(), host_in.size() * sizeof(float), stream), "cuMemcpyHtoDAsync"))
      return 2;
    const double htod = ns_since(start);
    const auto launch_start = Clock::now();
    int count = n;
    void* params[] = {&activations, &count};
    for (int k = 0; k < launches; ++k)
      if (!check_cu(cuLaunchKernel(relu, (n + 127) / 128, 1, 1, 128, 1, 1, 0, stream, params, nullptr),
                    "cuLaunchKernel"))
        return 2;
    const double launch = ns_since(launch_start);
    if (!check_cu(cuMemcpyDtoHAsync(host_out.data(), activations, n * sizeof(float), stream), "cuMemcpyDtoHAsync") ||
        !check_cu(cuStreamSynchronize(stream), "cuStreamSynchronize"))
      return 2;
    if (it < warmup) continue;
    launch_ns += launch;
    htod_ns += htod;
    iteration_ns += ns_since(start);
    per_launch.push_back(launch / launches);
  }
  const int measured = iterations - warmup;
  const char* mode = std::getenv("RRTO_MODE");
  std::printf(
      "bench_client_calls: mode %s, %d launches x %d iterations (after %d warm-up): cuLaunchKernel %.0f ns/call "
      "(median iteration %.0f), cuMemcpyHtoDAsync %.0f ns/call, iteration %.3f ms\n",
      mode ? mode : "default", launches, measured, warmup, launch_ns / (double(measured) * launches),
      examples::median(per_launch), htod_ns / measured, iteration_ns / measured / 1e6);
  return 0;
}
