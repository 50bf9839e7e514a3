// The example CNN: shapes, deterministic weights and inputs, the kernels by
// mangled name, and the launch sequence of one inference (forward()), shared
// by cnn_driver (CUDA driver API) and the tests (host-kernel library).
//
//   input  B x 1 x 28 x 28  (pixel values 0..255)
//   scale_shift            normalise
//   conv2d_bias 1->8  3x3  -> B x  8 x 26 x 26, relu
//   conv2d_bias 8->16 3x3  -> B x 16 x 24 x 24, relu
//   maxpool2x2             -> B x 16 x 12 x 12
//   conv2d_bias 16->16 3x3 -> B x 16 x 10 x 10, relu
//   maxpool2x2             -> B x 16 x  5 x  5  (flattened: 400 features)
//   dense 400->64, relu
//   dense 64->10
//   softmax                -> B x 10 probabilities
// 13 kernel launches per inference, 6 distinct kernels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cnn {

constexpr int kImageSize = 28;
constexpr int kImagePixels = kImageSize * kImageSize;
constexpr int kClasses = 10;
constexpr int kConv1Out = 8, kConv2Out = 16, kConv3Out = 16, kKernel = 3;
constexpr int kC1 = kImageSize - kKernel + 1;  // 26
constexpr int kC2 = kC1 - kKernel + 1;         // 24
constexpr int kP2 = kC2 / 2;                   // 12
constexpr int kC3 = kP2 - kKernel + 1;         // 10
constexpr int kP3 = kC3 / 2;                   // 5
constexpr int kFlat = kConv3Out * kP3 * kP3;   // 400
constexpr int kHidden = 64;
constexpr int kLaunchesPerInference = 13;
constexpr unsigned kBlockSize = 128;
// Normalisation of 0..255 pixels (MNIST's mean and deviation).
constexpr float kInputScale = 1.0f / (255.0f * 0.3081f);
constexpr float kInputShift = -0.1307f / 0.3081f;

enum class KernelId : int { ScaleShift, Relu, Conv2dBias, MaxPool2x2, Dense, Softmax, Count };
constexpr int kKernelCount = static_cast<int>(KernelId::Count);

struct KernelName {
  const char* source;   // as written in cnn_kernels.cu
  const char* mangled;  // the name nvcc gives it (and the host-kernel library exports)
};
// Indexed by KernelId.
inline constexpr KernelName kKernelNames[kKernelCount] = {
    {"cnn::scale_shift", "_ZN3cnn11scale_shiftEPKfPfiff"},
    {"cnn::relu", "_ZN3cnn4reluEPfi"},
    {"cnn::conv2d_bias", "_ZN3cnn11conv2d_biasEPKfS1_S1_Pfiiiiii"},
    {"cnn::maxpool2x2", "_ZN3cnn10maxpool2x2EPKfPfiiii"},
    {"cnn::dense", "_ZN3cnn5denseEPKfS1_S1_Pfiii"},
    {"cnn::softmax", "_ZN3cnn7softmaxEPKfPfii"},
};

// Weights and biases, generated from a seed with an LCG (same values on
// every platform and standard library).
struct Weights {
  std::vector<float> conv1_w, conv1_b, conv2_w, conv2_b, conv3_w, conv3_b;
  std::vector<float> fc1_w, fc1_b, fc2_w, fc2_b;
  static Weights generate(uint32_t seed = 2024);
};

// Pixels (0..255, as floats) of `batch` images for inference number
// `inference`: different for every inference and image, the same every run.
void generate_input(int inference, int batch, std::vector<float>& pixels);

// Floats in each activation buffer for a batch.
struct Sizes {
  size_t input, x0, c1, c2, p2, c3, p3, d1, d2, output;
  static Sizes for_batch(int batch);
};

// Device (or host) addresses of every buffer; Ptr is CUdeviceptr for the
// driver, float* for the host-kernel library.
template <class Ptr>
struct Buffers {
  Ptr input{}, x0{}, c1{}, c2{}, p2{}, c3{}, p3{}, d1{}, d2{}, output{};
  Ptr conv1_w{}, conv1_b{}, conv2_w{}, conv2_b{}, conv3_w{}, conv3_b{};
  Ptr fc1_w{}, fc1_b{}, fc2_w{}, fc2_b{};
};

inline unsigned blocks_for(int threads) {
  return static_cast<unsigned>((threads + static_cast<int>(kBlockSize) - 1) / static_cast<int>(kBlockSize));
}

// One inference: calls launch(KernelId, grid_x, block_x, args...) for each of
// the kLaunchesPerInference launches, in order, with arguments of exactly the
// kernels' parameter types (Ptr standing for the pointers). Stops and returns
// the first result that is not `ok`.
template <class Ptr, class Launch, class Result>
Result forward(const Buffers<Ptr>& b, int batch, Launch&& launch, Result ok) {
  Result r = ok;
  auto step = [&](auto&&... call) {
    if (r == ok) r = launch(call...);
  };
  const int n_in = batch * kImagePixels;
  const int n_c1 = batch * kConv1Out * kC1 * kC1;
  const int n_c2 = batch * kConv2Out * kC2 * kC2;
  const int n_p2 = batch * kConv2Out * kP2 * kP2;
  const int n_c3 = batch * kConv3Out * kC3 * kC3;
  const int n_p3 = batch * kConv3Out * kP3 * kP3;
  const int n_d1 = batch * kHidden;
  const int n_d2 = batch * kClasses;
  const float scale = kInputScale, shift = kInputShift;
  const int one = 1, image = kImageSize, k = kKernel, c1 = kConv1Out, c2 = kConv2Out, c3 = kConv3Out;
  const int s1 = kC1, s2 = kC2, s3 = kP2, s4 = kC3, flat = kFlat, hidden = kHidden, classes = kClasses;

  step(KernelId::ScaleShift, blocks_for(n_in), kBlockSize, b.input, b.x0, n_in, scale, shift);
  step(KernelId::Conv2dBias, blocks_for(n_c1), kBlockSize, b.x0, b.conv1_w, b.conv1_b, b.c1, batch, one, image,
       image, c1, k);
  step(KernelId::Relu, blocks_for(n_c1), kBlockSize, b.c1, n_c1);
  step(KernelId::Conv2dBias, blocks_for(n_c2), kBlockSize, b.c1, b.conv2_w, b.conv2_b, b.c2, batch, c1, s1, s1,
       c2, k);
  step(KernelId::Relu, blocks_for(n_c2), kBlockSize, b.c2, n_c2);
  step(KernelId::MaxPool2x2, blocks_for(n_p2), kBlockSize, b.c2, b.p2, batch, c2, s2, s2);
  step(KernelId::Conv2dBias, blocks_for(n_c3), kBlockSize, b.p2, b.conv3_w, b.conv3_b, b.c3, batch, c2, s3, s3,
       c3, k);
  step(KernelId::Relu, blocks_for(n_c3), kBlockSize, b.c3, n_c3);
  step(KernelId::MaxPool2x2, blocks_for(n_p3), kBlockSize, b.c3, b.p3, batch, c3, s4, s4);
  step(KernelId::Dense, blocks_for(n_d1), kBlockSize, b.p3, b.fc1_w, b.fc1_b, b.d1, batch, flat, hidden);
  step(KernelId::Relu, blocks_for(n_d1), kBlockSize, b.d1, n_d1);
  step(KernelId::Dense, blocks_for(n_d2), kBlockSize, b.d1, b.fc2_w, b.fc2_b, b.d2, batch, hidden, classes);
  step(KernelId::Softmax, blocks_for(batch), kBlockSize, b.d2, b.output, batch, classes);
  return r;
}

// The CPU reference: the same arithmetic (cnn_ops.h) in plain loops.
// `pixels` holds batch x 784 values, `probabilities` receives batch x 10.
void reference_forward(const Weights& w, const float* pixels, int batch, float* probabilities);

}  // namespace cnn
