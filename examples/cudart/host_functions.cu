// host_functions: host functions in stream order. Each step launches a
// kernel on a stream, copies its result back asynchronously, and enqueues a
// host function (cudaLaunchHostFunc, or cudaStreamAddCallback on odd steps)
// that records when it ran and what it read from that copy. The program
// checks that the functions ran in order, each after the kernel and copy
// before it, against a CPU reference, for several iterations (so that a
// replaying client replays them), and the error paths.
// Runs unchanged on a GPU or through RRTO's libcuda.so.1.
//
// Exit status: 0 every check passed, 1 a check failed, 2 an unexpected CUDA error.
#include <cstdio>
#include <string>
#include <vector>

#include "examples/cudart/cudart_util.h"
#include "stream_order_kernels.cu"

namespace {

using examples::check_rt;

constexpr int kN = 300;
constexpr unsigned kBlock = 128;
constexpr int kSteps = 5;
constexpr int kIterations = 6;

// What one host function saw.
struct Observation {
  const unsigned* copied = nullptr;  // the step's copy back (pinned host memory)
  std::vector<int>* order = nullptr;
  int step = 0;
  unsigned sum = 0;
  cudaError_t status = cudaErrorUnknown;
};

unsigned sum_of(const unsigned* v) {
  unsigned sum = 0;
  for (int i = 0; i < kN; ++i) sum += v[i] * static_cast<unsigned>(i + 1);
  return sum;
}

void CUDART_CB host_function(void* data) {
  auto* seen = static_cast<Observation*>(data);
  seen->order->push_back(seen->step);
  seen->sum = sum_of(seen->copied);
  seen->status = cudaSuccess;
}

void CUDART_CB stream_callback(cudaStream_t, cudaError_t status, void* data) {
  host_function(data);
  static_cast<Observation*>(data)->status = status;
}

// The sums each step's function must see, computed on the CPU.
std::vector<unsigned> reference_sums(const std::vector<unsigned>& input, int iteration) {
  std::vector<unsigned> v = input, sums;
  for (int step = 0; step < kSteps; ++step) {
    const unsigned k = static_cast<unsigned>(iteration * kSteps + step);
    for (int i = 0; i < kN; ++i) v[i] = v[i] * 3u + k + static_cast<unsigned>(i);
    sums.push_back(sum_of(v.data()));
  }
  return sums;
}

int one_iteration(cudaStream_t stream, unsigned* device, unsigned* pinned, int iteration) {
  std::vector<unsigned> input(kN);
  for (int i = 0; i < kN; ++i) input[i] = static_cast<unsigned>(i * 7 + iteration);
  std::vector<int> order;
  Observation seen[kSteps];
  if (!check_rt(cudaMemcpyAsync(device, input.data(), kN * sizeof(unsigned), cudaMemcpyHostToDevice, stream),
                "cudaMemcpyAsync"))
    return 2;
  for (int step = 0; step < kSteps; ++step) {
    const unsigned k = static_cast<unsigned>(iteration * kSteps + step);
    stream_order::advance<<<(kN + kBlock - 1) / kBlock, kBlock, 0, stream>>>(device, kN, k);
    unsigned* copied = pinned + step * kN;
    seen[step].copied = copied;
    seen[step].order = &order;
    seen[step].step = step;
    if (!check_rt(cudaGetLastError(), "advance<<<>>>") ||
        !check_rt(cudaMemcpyAsync(copied, device, kN * sizeof(unsigned), cudaMemcpyDeviceToHost, stream),
                  "cudaMemcpyAsync"))
      return 2;
    const cudaError_t e = step % 2 ? cudaStreamAddCallback(stream, stream_callback, &seen[step], 0)
                                   : cudaLaunchHostFunc(stream, host_function, &seen[step]);
    if (!check_rt(e, step % 2 ? "cudaStreamAddCallback" : "cudaLaunchHostFunc")) return 2;
  }
  if (!check_rt(cudaStreamSynchronize(stream), "cudaStreamSynchronize")) return 2;
  const std::vector<unsigned> expected = reference_sums(input, iteration);
  bool in_order = static_cast<int>(order.size()) == kSteps;
  for (int step = 0; in_order && step < kSteps; ++step) in_order = order[step] == step;
  if (!in_order) {
    std::fprintf(stderr, "host_functions: iteration %d: the host functions ran out of order\n", iteration);
    return 1;
  }
  for (int step = 0; step < kSteps; ++step) {
    if (seen[step].sum != expected[step] || seen[step].status != cudaSuccess) {
      std::fprintf(stderr, "host_functions: iteration %d step %d: the host function saw %u (status %d), expected %u\n",
                   iteration, step, seen[step].sum, static_cast<int>(seen[step].status), expected[step]);
      return 1;
    }
  }
  return 0;
}

int error_paths(cudaStream_t stream) {
  Observation unused;
  const cudaError_t no_function = cudaLaunchHostFunc(stream, nullptr, &unused);
  const cudaError_t no_callback = cudaStreamAddCallback(stream, nullptr, &unused, 0);
  const cudaError_t bad_flags = cudaStreamAddCallback(stream, stream_callback, &unused, 1);
  cudaGetLastError();
  if (no_function != cudaErrorInvalidValue || no_callback != cudaErrorInvalidValue ||
      bad_flags != cudaErrorInvalidValue) {
    std::fprintf(stderr, "host_functions: error paths: null function %d, null callback %d, flags 1 %d\n",
                 static_cast<int>(no_function), static_cast<int>(no_callback), static_cast<int>(bad_flags));
    return 1;
  }
  return 0;
}

}  // namespace

int main() {
  examples::program = "host_functions";
  cudaStream_t stream = nullptr;
  unsigned *device = nullptr, *pinned = nullptr;
  if (!check_rt(cudaStreamCreate(&stream), "cudaStreamCreate") ||
      !check_rt(cudaMalloc(&device, kN * sizeof(unsigned)), "cudaMalloc") ||
      !check_rt(cudaMallocHost(&pinned, kSteps * kN * sizeof(unsigned)), "cudaMallocHost"))
    return 2;
  for (int iteration = 0; iteration < kIterations; ++iteration) {
    if (const int rc = one_iteration(stream, device, pinned, iteration)) return rc;
  }
  if (const int rc = error_paths(stream)) return rc;
  // The legacy default stream orders host functions too.
  std::vector<int> order;
  Observation last;
  last.copied = pinned;
  last.order = &order;
  if (!check_rt(cudaLaunchHostFunc(nullptr, host_function, &last), "cudaLaunchHostFunc") ||
      !check_rt(cudaDeviceSynchronize(), "cudaDeviceSynchronize"))
    return 2;
  if (order.size() != 1) {
    std::fprintf(stderr, "host_functions: the host function on the default stream did not run\n");
    return 1;
  }
  cudaFreeHost(pinned);
  cudaFree(device);
  cudaStreamDestroy(stream);
  std::printf("host_functions: %d iterations of %d host functions in order, all checks passed\n", kIterations,
              kSteps);
  return 0;
}
