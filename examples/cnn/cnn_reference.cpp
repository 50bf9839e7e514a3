// The CPU reference of the example CNN: the per-element functions of
// cnn_ops.h (the ones the kernels call) in plain loops. Built with
// -ffp-contract=off like the host-kernel library.
#include "cnn_model.h"
#include "cnn_ops.h"

namespace cnn {

namespace {

void conv(const float* in, const std::vector<float>& w, const std::vector<float>& b, float* out, int batch,
          int in_channels, int size, int out_channels) {
  const int out_size = size - kKernel + 1;
  for (int n = 0; n < batch; ++n)
    for (int co = 0; co < out_channels; ++co)
      for (int y = 0; y < out_size; ++y)
        for (int x = 0; x < out_size; ++x)
          *out++ = conv2d_bias_at(in, w.data(), b.data(), n, co, y, x, in_channels, size, size, kKernel);
}

void relu_all(std::vector<float>& v) {
  for (auto& x : v) x = relu_at(x);
}

void pool(const float* in, float* out, int batch, int channels, int size) {
  for (int n = 0; n < batch; ++n)
    for (int c = 0; c < channels; ++c)
      for (int y = 0; y < size / 2; ++y)
        for (int x = 0; x < size / 2; ++x) *out++ = maxpool2x2_at(in, n, c, y, x, channels, size, size);
}

void fc(const float* in, const std::vector<float>& w, const std::vector<float>& b, float* out, int batch,
        int in_features, int out_features) {
  for (int n = 0; n < batch; ++n)
    for (int o = 0; o < out_features; ++o) *out++ = dense_at(in, w.data(), b.data(), n, o, in_features);
}

}  // namespace

void reference_forward(const Weights& w, const float* pixels, int batch, float* probabilities) {
  const Sizes s = Sizes::for_batch(batch);
  std::vector<float> x0(s.x0), c1(s.c1), c2(s.c2), p2(s.p2), c3(s.c3), p3(s.p3), d1(s.d1), d2(s.d2);
  for (size_t i = 0; i < s.x0; ++i) x0[i] = scale_shift_at(pixels, static_cast<int>(i), kInputScale, kInputShift);
  conv(x0.data(), w.conv1_w, w.conv1_b, c1.data(), batch, 1, kImageSize, kConv1Out);
  relu_all(c1);
  conv(c1.data(), w.conv2_w, w.conv2_b, c2.data(), batch, kConv1Out, kC1, kConv2Out);
  relu_all(c2);
  pool(c2.data(), p2.data(), batch, kConv2Out, kC2);
  conv(p2.data(), w.conv3_w, w.conv3_b, c3.data(), batch, kConv2Out, kP2, kConv3Out);
  relu_all(c3);
  pool(c3.data(), p3.data(), batch, kConv3Out, kC3);
  fc(p3.data(), w.fc1_w, w.fc1_b, d1.data(), batch, kFlat, kHidden);
  relu_all(d1);
  fc(d1.data(), w.fc2_w, w.fc2_b, d2.data(), batch, kHidden, kClasses);
  for (int n = 0; n < batch; ++n) softmax_row(d2.data(), probabilities, n, kClasses);
}

}  // namespace cnn
