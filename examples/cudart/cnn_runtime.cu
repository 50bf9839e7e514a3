// cnn_runtime: the example CNN through the CUDA runtime API, as most real
// inference code reaches the GPU: the same kernels, model and CPU reference as
// cnn_driver, launched with <<<>>>, memory from cudaMalloc, copies with
// cudaMemcpy/cudaMemcpyAsync on a stream, events timing the whole run.
// Built three ways, all run unchanged on a GPU or through RRTO's libcuda.so.1:
//   cnn_runtime         nvcc's default, cudart linked statically
//   cnn_runtime_shared  -cudart shared
//   cnn_runtime_ptds    --default-stream per-thread
//
//   cnn_runtime [--inferences N] [--batch B] [--quiet]
//
// Per inference the driver sees what cnn_driver issues: the input copy, the
// 13 launches and the output copy queued on one stream, then one
// synchronisation. Outputs must equal the reference bit for bit (see
// cnn_driver; RRTO_EXAMPLE_TOLERANCE=<relative> relaxes it).
//
// Exit status: 0 all outputs match, 1 a mismatch, 2 a CUDA error, 3 bad usage.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>

#include "cnn_kernels.cu"
#include "cnn_model.h"
#include "cnn_options.h"
#include "examples/cudart/cudart_util.h"

namespace {

using examples::check_rt;

// Launches `kernel` if the arguments are its parameters; forward() passes
// every kernel exactly its own, so the other branch is never taken.
template <class Kernel, class... Args>
cudaError_t launch_if_matches(Kernel kernel, unsigned grid, unsigned block, cudaStream_t stream, Args... args) {
  if constexpr (std::is_invocable_v<Kernel, Args...>) {
    kernel<<<grid, block, 0, stream>>>(args...);
    return cudaGetLastError();
  } else {
    return cudaErrorInvalidDeviceFunction;
  }
}

template <class... Args>
cudaError_t launch(cnn::KernelId id, unsigned grid, unsigned block, cudaStream_t stream, Args... args) {
  cudaError_t e = cudaErrorInvalidDeviceFunction;
  switch (id) {
    case cnn::KernelId::ScaleShift: e = launch_if_matches(cnn::scale_shift, grid, block, stream, args...); break;
    case cnn::KernelId::Relu: e = launch_if_matches(cnn::relu, grid, block, stream, args...); break;
    case cnn::KernelId::Conv2dBias: e = launch_if_matches(cnn::conv2d_bias, grid, block, stream, args...); break;
    case cnn::KernelId::MaxPool2x2: e = launch_if_matches(cnn::maxpool2x2, grid, block, stream, args...); break;
    case cnn::KernelId::Dense: e = launch_if_matches(cnn::dense, grid, block, stream, args...); break;
    case cnn::KernelId::Softmax: e = launch_if_matches(cnn::softmax, grid, block, stream, args...); break;
    case cnn::KernelId::Count: break;
  }
  if (e != cudaSuccess) check_rt(e, (std::string("<<<>>> ") + cnn::kKernelNames[static_cast<int>(id)].source).c_str());
  return e;
}

// Device buffers, freed on the way out.
class Buffers {
 public:
  ~Buffers() {
    for (float* p : allocations_) cudaFree(p);
  }

  bool alloc(float*& p, size_t floats) {
    if (!check_rt(cudaMalloc(&p, floats * sizeof(float)), "cudaMalloc")) return false;
    allocations_.push_back(p);
    return true;
  }

  bool upload(float*& p, const std::vector<float>& v) {
    return alloc(p, v.size()) &&
           check_rt(cudaMemcpy(p, v.data(), v.size() * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy(weights)");
  }

 private:
  std::vector<float*> allocations_;
};

bool upload_weights(Buffers& mem, const cnn::Weights& w, cnn::Buffers<float*>& b) {
  return mem.upload(b.conv1_w, w.conv1_w) && mem.upload(b.conv1_b, w.conv1_b) && mem.upload(b.conv2_w, w.conv2_w) &&
         mem.upload(b.conv2_b, w.conv2_b) && mem.upload(b.conv3_w, w.conv3_w) && mem.upload(b.conv3_b, w.conv3_b) &&
         mem.upload(b.fc1_w, w.fc1_w) && mem.upload(b.fc1_b, w.fc1_b) && mem.upload(b.fc2_w, w.fc2_w) &&
         mem.upload(b.fc2_b, w.fc2_b);
}

bool alloc_activations(Buffers& mem, const cnn::Sizes& s, cnn::Buffers<float*>& b) {
  return mem.alloc(b.input, s.input) && mem.alloc(b.x0, s.x0) && mem.alloc(b.c1, s.c1) && mem.alloc(b.c2, s.c2) &&
         mem.alloc(b.p2, s.p2) && mem.alloc(b.c3, s.c3) && mem.alloc(b.p3, s.p3) && mem.alloc(b.d1, s.d1) &&
         mem.alloc(b.d2, s.d2) && mem.alloc(b.output, s.output);
}

bool copy_output(const cnn::Options& opt, cudaStream_t stream, const float* from, std::vector<float>& output) {
  const size_t bytes = output.size() * sizeof(float);
  if (opt.sync_then_copy)
    return check_rt(cudaStreamSynchronize(stream), "cudaStreamSynchronize") &&
           check_rt(cudaMemcpy(output.data(), from, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy(output)");
  return check_rt(cudaMemcpyAsync(output.data(), from, bytes, cudaMemcpyDeviceToHost, stream), "cudaMemcpyAsync(output)") &&
         check_rt(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
}

int run(const cnn::Options& opt) {
  const double tolerance = examples::tolerance_from_env();
  if (!check_rt(cudaSetDevice(0), "cudaSetDevice(0)")) return 2;
  cudaStream_t stream = nullptr;
  if (!check_rt(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags")) return 2;
  cudaEvent_t run_start = nullptr, run_end = nullptr;
  if (!check_rt(cudaEventCreate(&run_start), "cudaEventCreate") ||
      !check_rt(cudaEventCreate(&run_end), "cudaEventCreate"))
    return 2;

  const cnn::Weights weights = cnn::Weights::generate();
  const cnn::Sizes sizes = cnn::Sizes::for_batch(opt.batch);
  Buffers mem;
  cnn::Buffers<float*> b;
  if (!upload_weights(mem, weights, b) || !alloc_activations(mem, sizes, b)) return 2;

  std::vector<float> pixels, output(sizes.output), expected(sizes.output);
  std::vector<double> latencies_ms;
  bool exact = true;
  if (!check_rt(cudaEventRecord(run_start, stream), "cudaEventRecord")) return 2;
  for (int i = 0; i < opt.inferences; ++i) {
    cnn::generate_input(i, opt.batch, pixels);
    const auto start = std::chrono::steady_clock::now();
    if (!check_rt(
            cudaMemcpyAsync(b.input, pixels.data(), pixels.size() * sizeof(float), cudaMemcpyHostToDevice, stream),
            "cudaMemcpyAsync(input)"))
      return 2;
    const cudaError_t launched = cnn::forward(
        b, opt.batch,
        [&](cnn::KernelId id, unsigned grid, unsigned block, auto... args) {
          return launch(id, grid, block, stream, args...);
        },
        cudaSuccess);
    if (launched != cudaSuccess) return 2;
    if (!copy_output(opt, stream, b.output, output)) return 2;
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    latencies_ms.push_back(ms);

    cnn::reference_forward(weights, pixels.data(), opt.batch, expected.data());
    const examples::Comparison c = examples::compare(output, expected, tolerance);
    if (!c.match) {
      std::fprintf(stderr,
                   "%s: inference %d: output differs from the reference at index %zu (image %zu, class %zu): "
                   "device %.9g (0x%08x), reference %.9g (0x%08x)\n",
                   examples::program, i, c.index, c.index / cnn::kClasses, c.index % cnn::kClasses, output[c.index],
                   examples::float_bits(output[c.index]), expected[c.index], examples::float_bits(expected[c.index]));
      return 1;
    }
    exact = exact && c.exact;
    const auto top = std::max_element(output.begin(), output.begin() + cnn::kClasses) - output.begin();
    cnn::print_inference(opt, i, ms, top, output[top], c.exact);
  }
  float device_ms = 0;
  if (!check_rt(cudaEventRecord(run_end, stream), "cudaEventRecord") ||
      !check_rt(cudaEventSynchronize(run_end), "cudaEventSynchronize") ||
      !check_rt(cudaEventElapsedTime(&device_ms, run_start, run_end), "cudaEventElapsedTime"))
    return 2;
  cudaEventDestroy(run_start);
  cudaEventDestroy(run_end);
  cudaStreamDestroy(stream);
  std::printf(
      "%s: %d inferences (batch %d, %d launches each), outputs match reference%s, median latency %.3f ms, "
      "device time %.3f ms\n",
      examples::program, opt.inferences, opt.batch, cnn::kLaunchesPerInference,
      exact ? " exactly" : " within tolerance", examples::median(latencies_ms), device_ms);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const char* slash = std::strrchr(argv[0], '/');
  examples::program = slash ? slash + 1 : argv[0];
  cnn::Options opt;
  if (const int status = cnn::parse_options(argc, argv, opt); status >= 0) return status;
  return run(opt);
}
