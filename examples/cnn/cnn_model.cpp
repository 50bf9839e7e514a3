#include "cnn_model.h"

#include <cmath>

namespace cnn {

namespace {

// Numerical Recipes' LCG; the top 24 bits make an exactly representable float.
struct Lcg {
  uint32_t state;
  uint32_t next() {
    state = state * 1664525u + 1013904223u;
    return state;
  }
  float uniform() { return static_cast<float>(next() >> 8) * (1.0f / 16777216.0f); }  // [0, 1)
};

void fill(std::vector<float>& v, size_t n, float bound, Lcg& rng) {
  v.resize(n);
  for (auto& x : v) x = (rng.uniform() * 2.0f - 1.0f) * bound;
}

// He-style uniform bound for a layer with `fan_in` inputs.
float bound_for(int fan_in) { return static_cast<float>(std::sqrt(6.0 / fan_in)); }

}  // namespace

Weights Weights::generate(uint32_t seed) {
  Weights w;
  Lcg rng{seed};
  fill(w.conv1_w, size_t{kConv1Out} * 1 * kKernel * kKernel, bound_for(1 * kKernel * kKernel), rng);
  fill(w.conv1_b, kConv1Out, 0.1f, rng);
  fill(w.conv2_w, size_t{kConv2Out} * kConv1Out * kKernel * kKernel, bound_for(kConv1Out * kKernel * kKernel), rng);
  fill(w.conv2_b, kConv2Out, 0.1f, rng);
  fill(w.conv3_w, size_t{kConv3Out} * kConv2Out * kKernel * kKernel, bound_for(kConv2Out * kKernel * kKernel), rng);
  fill(w.conv3_b, kConv3Out, 0.1f, rng);
  fill(w.fc1_w, size_t{kHidden} * kFlat, bound_for(kFlat), rng);
  fill(w.fc1_b, kHidden, 0.1f, rng);
  fill(w.fc2_w, size_t{kClasses} * kHidden, bound_for(kHidden), rng);
  fill(w.fc2_b, kClasses, 0.1f, rng);
  return w;
}

void generate_input(int inference, int batch, std::vector<float>& pixels) {
  pixels.resize(static_cast<size_t>(batch) * kImagePixels);
  for (int n = 0; n < batch; ++n) {
    // A bright disc somewhere on a noisy background: different per inference and image.
    Lcg rng{0x9E3779B9u ^ (static_cast<uint32_t>(inference) * 7919u + static_cast<uint32_t>(n) * 104729u + 1u)};
    const int cx = 6 + static_cast<int>(rng.next() % 16), cy = 6 + static_cast<int>(rng.next() % 16);
    const int radius = 3 + static_cast<int>(rng.next() % 5);
    float* image = pixels.data() + static_cast<size_t>(n) * kImagePixels;
    for (int y = 0; y < kImageSize; ++y)
      for (int x = 0; x < kImageSize; ++x) {
        const int d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
        const int noise = static_cast<int>(rng.next() >> 27);  // 0..31
        const int value = (d2 <= radius * radius ? 200 : 0) + noise;
        image[y * kImageSize + x] = static_cast<float>(value > 255 ? 255 : value);
      }
  }
}

Sizes Sizes::for_batch(int batch) {
  const size_t b = static_cast<size_t>(batch);
  Sizes s{};
  s.input = b * kImagePixels;
  s.x0 = b * kImagePixels;
  s.c1 = b * kConv1Out * kC1 * kC1;
  s.c2 = b * kConv2Out * kC2 * kC2;
  s.p2 = b * kConv2Out * kP2 * kP2;
  s.c3 = b * kConv3Out * kC3 * kC3;
  s.p3 = b * kConv3Out * kP3 * kP3;
  s.d1 = b * kHidden;
  s.d2 = b * kClasses;
  s.output = b * kClasses;
  return s;
}

}  // namespace cnn
