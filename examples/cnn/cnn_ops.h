// The CNN's arithmetic, one output element at a time, shared by the kernels
// (cnn_kernels.cu: nvcc for the GPU, g++ for the host-kernel library) and the
// CPU reference (cnn_reference.cpp). Same functions, same operation order,
// only IEEE-exact basic operations (+ - * / floor, int<->float conversion):
// with contraction off on every side (nvcc -fmad=false, g++ -ffp-contract=off)
// every build computes bit-identical results.
#pragma once

#include <cstring>

#include <rrto/host_kernel.h>

namespace cnn {

// The float with these bits, in device code and in host code alike (nvcc's
// host pass, for programs that launch with <<<>>>, has no __int_as_float).
__host__ __device__ inline float float_from_bits(int bits) {
#if defined(__CUDA_ARCH__)
  return __int_as_float(bits);
#else
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
#endif
}

// exp(x) from basic operations only (no libm, no GPU intrinsic, whose
// results differ between platforms): Cody-Waite range reduction and a degree-6
// polynomial; about 1e-7 relative error on [-87, 88].
__host__ __device__ inline float exp_det(float x) {
  if (x < -87.0f) x = -87.0f;
  if (x > 88.0f) x = 88.0f;
  const float kf = floorf(x * 1.44269504088896341f + 0.5f);
  const float r = (x - kf * 0.693359375f) - kf * -2.12194440e-4f;
  float p = 1.38888889e-3f;
  p = p * r + 8.33333333e-3f;
  p = p * r + 4.16666667e-2f;
  p = p * r + 1.66666667e-1f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int k = static_cast<int>(kf);
  return p * float_from_bits((k + 127) << 23);  // 2^k, k in [-126, 127]
}

// out = in * scale + shift (input normalisation).
__host__ __device__ inline float scale_shift_at(const float* in, int i, float scale, float shift) {
  const float scaled = in[i] * scale;
  return scaled + shift;
}

__host__ __device__ inline float relu_at(float v) { return v > 0.0f ? v : 0.0f; }

// Valid (unpadded) convolution, stride 1, NCHW; element (n, co, y, x) of the
// output of size [batch][out_channels][height-ksize+1][width-ksize+1].
__host__ __device__ inline float conv2d_bias_at(const float* in, const float* weight, const float* bias,
                                                int n, int co, int y, int x, int in_channels, int height,
                                                int width, int ksize) {
  float acc = bias[co];
  for (int ci = 0; ci < in_channels; ++ci) {
    const float* plane = in + (n * in_channels + ci) * height * width;
    const float* kernel = weight + (co * in_channels + ci) * ksize * ksize;
    for (int ky = 0; ky < ksize; ++ky)
      for (int kx = 0; kx < ksize; ++kx) {
        const float product = plane[(y + ky) * width + (x + kx)] * kernel[ky * ksize + kx];
        acc = acc + product;
      }
  }
  return acc;
}

// 2x2 max pooling, stride 2; element (n, c, y, x) of [batch][channels][height/2][width/2].
__host__ __device__ inline float maxpool2x2_at(const float* in, int n, int c, int y, int x, int channels,
                                               int height, int width) {
  const float* plane = in + (n * channels + c) * height * width;
  const float a = plane[(2 * y) * width + 2 * x];
  const float b = plane[(2 * y) * width + 2 * x + 1];
  const float d = plane[(2 * y + 1) * width + 2 * x];
  const float e = plane[(2 * y + 1) * width + 2 * x + 1];
  const float ab = a > b ? a : b;
  const float de = d > e ? d : e;
  return ab > de ? ab : de;
}

// Fully connected: element (n, o) of [batch][out_features]; weight is [out][in].
__host__ __device__ inline float dense_at(const float* in, const float* weight, const float* bias, int n, int o,
                                          int in_features) {
  float acc = bias[o];
  const float* row = weight + o * in_features;
  const float* x = in + n * in_features;
  for (int i = 0; i < in_features; ++i) {
    const float product = x[i] * row[i];
    acc = acc + product;
  }
  return acc;
}

// Softmax over one row of `classes` values (one image).
__host__ __device__ inline void softmax_row(const float* in, float* out, int n, int classes) {
  const float* x = in + n * classes;
  float* y = out + n * classes;
  float m = x[0];
  for (int j = 1; j < classes; ++j) m = x[j] > m ? x[j] : m;
  float sum = 0.0f;
  for (int j = 0; j < classes; ++j) {
    const float e = exp_det(x[j] - m);
    y[j] = e;
    sum = sum + e;
  }
  for (int j = 0; j < classes; ++j) y[j] = y[j] / sum;
}

}  // namespace cnn
