// cnn_diverge: the example CNN run by a program that does not repeat itself
// exactly, to check that replaying a recorded operator sequence never gives
// a wrong answer. Every output is compared with the CPU reference.
//
//   cnn_diverge --scenario S [--inferences N] [--quiet]
//
// Scenarios:
//   batch    the batch size changes between 1 and 3 every 3 inferences
//   models   two models (two weight sets) take turns
//   branch   depending on the previous answer, an extra (harmless) kernel runs
//   realloc  the activation buffers are freed and allocated again after each inference
//   peek     an intermediate tensor is copied back mid-inference and checked too
//
// Exit status: 0 all outputs match, 1 a mismatch, 2 a CUDA error, 3 bad usage.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "cnn_device.h"
#include "cnn_model.h"
#include "cnn_ops.h"

namespace {

using examples::check_cu;

enum class Scenario { Batch, Models, Branch, Realloc, Peek };

struct Options {
  Scenario scenario = Scenario::Batch;
  int inferences = 12;
  bool quiet = false;
};

constexpr int kMaxBatch = 3;

int usage(const char* message) {
  if (message) std::fprintf(stderr, "cnn_diverge: %s\n", message);
  std::fprintf(stderr,
               "usage: cnn_diverge --scenario batch|models|branch|realloc|peek [--inferences N] [--quiet]\n");
  return 3;
}

bool mismatch(const char* what, int inference, const std::vector<float>& got, const std::vector<float>& want) {
  const examples::Comparison c = examples::compare(got, want, examples::tolerance_from_env());
  if (c.match) return false;
  std::fprintf(stderr, "cnn_diverge: inference %d: %s differs from the reference at index %zu: %.9g vs %.9g\n",
               inference, what, c.index, got[c.index], want[c.index]);
  return true;
}

// conv1 + relu of the reference, for the peek scenario.
std::vector<float> reference_conv1(const cnn::Weights& w, const std::vector<float>& pixels) {
  std::vector<float> x0(pixels.size()), c1;
  for (size_t i = 0; i < x0.size(); ++i)
    x0[i] = cnn::scale_shift_at(pixels.data(), static_cast<int>(i), cnn::kInputScale, cnn::kInputShift);
  for (int co = 0; co < cnn::kConv1Out; ++co)
    for (int y = 0; y < cnn::kC1; ++y)
      for (int x = 0; x < cnn::kC1; ++x)
        c1.push_back(cnn::relu_at(cnn::conv2d_bias_at(x0.data(), w.conv1_w.data(), w.conv1_b.data(), 0, co, y, x,
                                                      1, cnn::kImageSize, cnn::kImageSize, cnn::kKernel)));
  return c1;
}

int run(const Options& opt) {
  cnn::Device dev;
  if (!dev.init()) return 2;
  const cnn::Weights weights[2] = {cnn::Weights::generate(), cnn::Weights::generate(7)};
  cnn::Buffers<CUdeviceptr> model[2];
  if (!upload_weights(dev, weights[0], model[0]) || !upload_weights(dev, weights[1], model[1])) return 2;
  cnn::Buffers<CUdeviceptr> acts;
  const cnn::Sizes sizes = cnn::Sizes::for_batch(kMaxBatch);
  if (!alloc_activations(dev, sizes, acts)) return 2;

  std::vector<float> pixels, output, expected, peeked;
  size_t previous_top = 0;
  for (int i = 0; i < opt.inferences; ++i) {
    const int batch = opt.scenario == Scenario::Batch && (i / 3) % 2 ? kMaxBatch : 1;
    const int m = opt.scenario == Scenario::Models ? i % 2 : 0;
    cnn::Buffers<CUdeviceptr> b = model[m];
    b.input = acts.input, b.x0 = acts.x0, b.c1 = acts.c1, b.c2 = acts.c2, b.p2 = acts.p2, b.c3 = acts.c3;
    b.p3 = acts.p3, b.d1 = acts.d1, b.d2 = acts.d2, b.output = acts.output;
    cnn::generate_input(i, batch, pixels);
    output.assign(static_cast<size_t>(batch) * cnn::kClasses, 0.0f);

    const auto start = std::chrono::steady_clock::now();
    if (!check_cu(cuMemcpyHtoDAsync(b.input, pixels.data(), pixels.size() * sizeof(float), dev.stream()),
                  "cuMemcpyHtoDAsync(input)"))
      return 2;
    int launches = 0;
    bool peek_failed = false;
    const CUresult launched = cnn::forward(
        b, batch,
        [&](auto... call) {
          const CUresult r = dev.launch(call...);
          // After conv1 and its relu (launches 2 and 3), look at the activations.
          if (r == CUDA_SUCCESS && ++launches == 3 && opt.scenario == Scenario::Peek) {
            peeked.assign(static_cast<size_t>(cnn::kConv1Out) * cnn::kC1 * cnn::kC1, 0.0f);
            if (!check_cu(cuMemcpyDtoHAsync(peeked.data(), b.c1, peeked.size() * sizeof(float), dev.stream()),
                          "cuMemcpyDtoHAsync(c1)") ||
                !check_cu(cuStreamSynchronize(dev.stream()), "cuStreamSynchronize"))
              peek_failed = true;
          }
          return r;
        },
        CUDA_SUCCESS);
    if (launched != CUDA_SUCCESS || peek_failed) return 2;
    // Softmax outputs are never negative, so this relu changes nothing but
    // the operator stream.
    if (opt.scenario == Scenario::Branch && previous_top % 2 == 0 &&
        dev.launch(cnn::KernelId::Relu, 1, cnn::kBlockSize, b.output, batch * cnn::kClasses) != CUDA_SUCCESS)
      return 2;
    if (!check_cu(cuMemcpyDtoHAsync(output.data(), b.output, output.size() * sizeof(float), dev.stream()),
                  "cuMemcpyDtoHAsync(output)") ||
        !check_cu(cuStreamSynchronize(dev.stream()), "cuStreamSynchronize"))
      return 2;
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

    expected.assign(output.size(), 0.0f);
    cnn::reference_forward(weights[m], pixels.data(), batch, expected.data());
    if (mismatch("the output", i, output, expected)) return 1;
    if (opt.scenario == Scenario::Peek && mismatch("conv1", i, peeked, reference_conv1(weights[m], pixels)))
      return 1;
    previous_top = std::max_element(output.begin(), output.begin() + cnn::kClasses) - output.begin();
    if (!opt.quiet) std::printf("inference %d: %.3f ms, batch %d, model %d\n", i, ms, batch, m);

    if (opt.scenario == Scenario::Realloc && (!free_activations(dev, acts) || !alloc_activations(dev, sizes, acts)))
      return 2;
  }
  std::printf("cnn_diverge: %d inferences, outputs match reference\n", opt.inferences);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  examples::program = "cnn_diverge";
  Options opt;
  bool scenario_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quiet" || arg == "-q") {
      opt.quiet = true;
    } else if (arg == "--inferences" && i + 1 < argc) {
      if (!examples::parse_positive(argv[++i], opt.inferences, 1 << 24)) return usage("--inferences: not a number");
    } else if (arg == "--scenario" && i + 1 < argc) {
      const std::string s = argv[++i];
      scenario_given = true;
      if (s == "batch") opt.scenario = Scenario::Batch;
      else if (s == "models") opt.scenario = Scenario::Models;
      else if (s == "branch") opt.scenario = Scenario::Branch;
      else if (s == "realloc") opt.scenario = Scenario::Realloc;
      else if (s == "peek") opt.scenario = Scenario::Peek;
      else return usage(("unknown scenario " + s).c_str());
    } else {
      return usage(("unknown option " + arg).c_str());
    }
  }
  if (!scenario_given) return usage("--scenario is required");
  return run(opt);
}
