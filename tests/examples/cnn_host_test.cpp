// The example CNN on the host-kernel library (what rrto-server's `host`
// backend runs) against the CPU reference: bit-identical for every input and
// batch size.
#include "cnn_model.h"
#include "server/hostkernel/loader.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

// Last: the kernels' arithmetic (it defines the CUDA keywords away).
#include "cnn_ops.h"

using rrto::HostDim3;
using rrto::HostKernel;
using rrto::HostKernelLibrary;
using rrto::Status;

namespace {

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

// The "device": host buffers, the library's kernels, launches through the loader.
class HostCnn {
 public:
  HostCnn() {
    std::string error;
    const Status s = HostKernelLibrary::open(RRTO_EXAMPLE_KERNELS_SO, lib_, error);
    INFO(error);
    REQUIRE(s == Status::Ok);
    for (int k = 0; k < cnn::kKernelCount; ++k) {
      const HostKernel* kernel = nullptr;
      const Status found = lib_->lookup(cnn::kKernelNames[k].mangled, kernel, error);
      INFO(cnn::kKernelNames[k].source << ": " << error);
      REQUIRE(found == Status::Ok);
      kernels_[k] = kernel;
    }
    const cnn::Weights w = cnn::Weights::generate();
    weights_ = {w.conv1_w, w.conv1_b, w.conv2_w, w.conv2_b, w.conv3_w, w.conv3_b,
                w.fc1_w,   w.fc1_b,   w.fc2_w,   w.fc2_b};
  }

  const HostKernel& kernel(cnn::KernelId id) const { return *kernels_[static_cast<int>(id)]; }

  // Runs one inference; returns the probabilities and the launches made.
  std::vector<float> infer(const std::vector<float>& pixels, int batch, std::vector<cnn::KernelId>* launches = nullptr) {
    const cnn::Sizes s = cnn::Sizes::for_batch(batch);
    std::vector<float> input = pixels, x0(s.x0), c1(s.c1), c2(s.c2), p2(s.p2), c3(s.c3), p3(s.p3), d1(s.d1),
                       d2(s.d2), output(s.output, -1.0f);
    cnn::Buffers<float*> b;
    b.input = input.data();
    b.x0 = x0.data();
    b.c1 = c1.data();
    b.c2 = c2.data();
    b.p2 = p2.data();
    b.c3 = c3.data();
    b.p3 = p3.data();
    b.d1 = d1.data();
    b.d2 = d2.data();
    b.output = output.data();
    float** weight_ptrs[] = {&b.conv1_w, &b.conv1_b, &b.conv2_w, &b.conv2_b, &b.conv3_w,
                             &b.conv3_b, &b.fc1_w,   &b.fc1_b,   &b.fc2_w,   &b.fc2_b};
    for (size_t i = 0; i < weights_.size(); ++i) *weight_ptrs[i] = weights_[i].data();

    std::string error;
    const Status s_run = cnn::forward(
        b, batch,
        [&](cnn::KernelId id, unsigned grid, unsigned block, auto... args) {
          if (launches != nullptr) launches->push_back(id);
          void* params[] = {static_cast<void*>(&args)...};
          const HostKernel& k = kernel(id);
          // The arguments' sizes are the kernel's parameter sizes.
          const size_t sizes[] = {sizeof(args)...};
          REQUIRE(k.params().size() == sizeof...(args));
          for (size_t i = 0; i < sizeof...(args); ++i) REQUIRE(k.params()[i].size == sizes[i]);
          return k.launch(HostDim3{grid, 1, 1}, HostDim3{block, 1, 1}, params, &error);
        },
        Status::Ok);
    INFO(error);
    REQUIRE(s_run == Status::Ok);
    return output;
  }

 private:
  std::unique_ptr<HostKernelLibrary> lib_;
  const HostKernel* kernels_[cnn::kKernelCount] = {};
  std::vector<std::vector<float>> weights_;
};

std::vector<float> reference(const std::vector<float>& pixels, int batch) {
  static const cnn::Weights w = cnn::Weights::generate();
  std::vector<float> out(static_cast<size_t>(batch) * cnn::kClasses, -1.0f);
  cnn::reference_forward(w, pixels.data(), batch, out.data());
  return out;
}

void check_identical(const std::vector<float>& got, const std::vector<float>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CAPTURE(got[i]);
    CAPTURE(want[i]);
    REQUIRE(bits(got[i]) == bits(want[i]));
  }
}

}  // namespace

TEST_CASE("host-kernel CNN and CPU reference agree bit for bit") {
  HostCnn net;
  for (int batch : {1, 2, 3, 8}) {
    for (int inference : {0, 1, 7, 42}) {
      CAPTURE(batch);
      CAPTURE(inference);
      std::vector<float> pixels;
      cnn::generate_input(inference, batch, pixels);
      const std::vector<float> got = net.infer(pixels, batch);
      const std::vector<float> want = reference(pixels, batch);
      check_identical(got, want);
      for (int n = 0; n < batch; ++n) {
        float sum = 0;
        for (int c = 0; c < cnn::kClasses; ++c) {
          const float p = got[n * cnn::kClasses + c];
          CHECK(p > 0.0f);
          CHECK(p < 1.0f);
          sum += p;
        }
        CHECK(sum == doctest::Approx(1.0f).epsilon(1e-5));
      }
    }
  }
}

TEST_CASE("one inference is 13 launches of 6 kernels, and outputs depend on the input") {
  HostCnn net;
  std::vector<cnn::KernelId> launches;
  std::vector<float> a, b;
  cnn::generate_input(0, 1, a);
  cnn::generate_input(1, 1, b);
  CHECK(a != b);
  const std::vector<float> out_a = net.infer(a, 1, &launches);
  CHECK(launches.size() == cnn::kLaunchesPerInference);
  CHECK(std::set<cnn::KernelId>(launches.begin(), launches.end()).size() == cnn::kKernelCount);
  const std::vector<float> out_b = net.infer(b, 1);
  CHECK(out_a != out_b);
}

TEST_CASE("batching does not change an image's result") {
  HostCnn net;
  std::vector<float> batch4, single;
  cnn::generate_input(5, 4, batch4);
  cnn::generate_input(5, 1, single);  // image 0 of inference 5
  REQUIRE(std::equal(single.begin(), single.end(), batch4.begin()));
  const std::vector<float> out4 = net.infer(batch4, 4);
  const std::vector<float> out1 = net.infer(single, 1);
  check_identical(std::vector<float>(out4.begin(), out4.begin() + cnn::kClasses), out1);
}

TEST_CASE("the kernels' parameter layouts are the plain C++ ones") {
  HostCnn net;
  using P = std::vector<rrto::HostKernelParam>;
  CHECK(net.kernel(cnn::KernelId::ScaleShift).params() == P{{0, 8}, {8, 8}, {16, 4}, {20, 4}, {24, 4}});
  CHECK(net.kernel(cnn::KernelId::Relu).params() == P{{0, 8}, {8, 4}});
  CHECK(net.kernel(cnn::KernelId::Conv2dBias).param_buffer_size() == 56);
  CHECK(net.kernel(cnn::KernelId::Softmax).params() == P{{0, 8}, {8, 8}, {16, 4}, {20, 4}});
}

TEST_CASE("the deterministic exp and softmax are accurate") {
  double worst = 0;
  for (float x = -87.0f; x <= 88.0f; x += 0.0137f) {
    const double want = std::exp(static_cast<double>(x));
    const double got = cnn::exp_det(x);
    worst = std::max(worst, std::fabs(got - want) / want);
  }
  CHECK(worst < 5e-7);
  CHECK(cnn::exp_det(0.0f) == 1.0f);
  CHECK(cnn::exp_det(-1000.0f) > 0.0f);  // clamped, no underflow to denormals
  CHECK(std::isfinite(cnn::exp_det(1000.0f)));

  float logits[cnn::kClasses] = {0, 1, 2, 3, -4, 5, 0.5f, -0.5f, 9, 0};
  float probabilities[cnn::kClasses];
  cnn::softmax_row(logits, probabilities, 0, cnn::kClasses);
  double denominator = 0;
  for (float l : logits) denominator += std::exp(static_cast<double>(l));
  for (int c = 0; c < cnn::kClasses; ++c) {
    CAPTURE(c);
    CHECK(probabilities[c] == doctest::Approx(std::exp(static_cast<double>(logits[c])) / denominator).epsilon(1e-6));
  }
}
