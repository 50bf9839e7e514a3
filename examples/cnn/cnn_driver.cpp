// cnn_driver: runs the example CNN through the CUDA driver API and checks every
// output against the CPU reference. Written against <cuda.h> only, so it runs
// unchanged on a real GPU or, through RRTO's libcuda.so.1, remotely.
//
//   cnn_driver [--inferences N] [--batch B] [--quiet] [--timestamps] [--sync-then-copy]
//
// Per inference exactly one point needs the device: the input goes up with
// cuMemcpyHtoDAsync, the 13 launches and the output copy are queued on one
// stream, and cuStreamSynchronize waits for the result (--sync-then-copy:
// cuStreamSynchronize, then a synchronous cuMemcpyDtoH).
//
// Outputs must equal the reference bit for bit (the kernels use only
// IEEE-exact operations, nvcc -fmad=false). RRTO_EXAMPLE_TOLERANCE=<relative>
// accepts small differences instead.
//
// Exit status: 0 all outputs match, 1 a mismatch, 2 a CUDA error, 3 bad usage.
#include "cnn_device.h"
#include "cnn_model.h"
#include "cnn_options.h"
#include "examples/common/example_util.h"

#include <cuda.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using examples::check_cu;

bool copy_output(cnn::Device& dev, const cnn::Options& opt, CUdeviceptr from, std::vector<float>& output) {
  const size_t bytes = output.size() * sizeof(float);
  if (opt.sync_then_copy)
    return check_cu(cuStreamSynchronize(dev.stream()), "cuStreamSynchronize") &&
           check_cu(cuMemcpyDtoH(output.data(), from, bytes), "cuMemcpyDtoH(output)");
  return check_cu(cuMemcpyDtoHAsync(output.data(), from, bytes, dev.stream()), "cuMemcpyDtoHAsync(output)") &&
         check_cu(cuStreamSynchronize(dev.stream()), "cuStreamSynchronize");
}

int run(const cnn::Options& opt) {
  const double tolerance = examples::tolerance_from_env();
  cnn::Device dev;
  if (!dev.init()) return 2;

  const cnn::Weights weights = cnn::Weights::generate();
  const cnn::Sizes sizes = cnn::Sizes::for_batch(opt.batch);
  cnn::Buffers<CUdeviceptr> b;
  if (!upload_weights(dev, weights, b) || !alloc_activations(dev, sizes, b)) return 2;

  std::vector<float> pixels, output(sizes.output), expected(sizes.output);
  std::vector<double> latencies_ms;
  bool exact = true;
  for (int i = 0; i < opt.inferences; ++i) {
    cnn::generate_input(i, opt.batch, pixels);
    const auto start = std::chrono::steady_clock::now();
    if (!check_cu(cuMemcpyHtoDAsync(b.input, pixels.data(), pixels.size() * sizeof(float), dev.stream()),
                  "cuMemcpyHtoDAsync(input)"))
      return 2;
    const CUresult launched = cnn::forward(
        b, opt.batch, [&](auto... call) { return dev.launch(call...); }, CUDA_SUCCESS);
    if (launched != CUDA_SUCCESS) return 2;
    if (!copy_output(dev, opt, b.output, output)) return 2;
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    latencies_ms.push_back(ms);

    cnn::reference_forward(weights, pixels.data(), opt.batch, expected.data());
    const examples::Comparison c = examples::compare(output, expected, tolerance);
    if (!c.match) {
      std::fprintf(stderr,
                   "cnn_driver: inference %d: output differs from the reference at index %zu (image %zu, "
                   "class %zu): device %.9g (0x%08x), reference %.9g (0x%08x)\n",
                   i, c.index, c.index / cnn::kClasses, c.index % cnn::kClasses, output[c.index],
                   examples::float_bits(output[c.index]), expected[c.index],
                   examples::float_bits(expected[c.index]));
      return 1;
    }
    exact = exact && c.exact;
    const auto top = std::max_element(output.begin(), output.begin() + cnn::kClasses) - output.begin();
    cnn::print_inference(opt, i, ms, top, output[top], c.exact);
  }
  std::printf("cnn_driver: %d inferences (batch %d, %d launches each), outputs match reference%s, median latency "
              "%.3f ms\n",
              opt.inferences, opt.batch, cnn::kLaunchesPerInference,
              exact ? " exactly" : " within tolerance", examples::median(latencies_ms));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  examples::program = "cnn_driver";
  cnn::Options opt;
  if (const int status = cnn::parse_options(argc, argv, opt); status >= 0) return status;
  return run(opt);
}
