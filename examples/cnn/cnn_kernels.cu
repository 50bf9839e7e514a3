// The example CNN's kernels, written once. nvcc builds them into the fatbin
// embedded in cnn_driver; g++ builds the same file into the host-kernel
// library librrto_example_kernels.so (see cnn_host_kernels.cpp). One thread
// per output element, no shared memory, no atomics, no barriers.
#include "cnn_ops.h"

namespace cnn {

__global__ void scale_shift(const float* in, float* out, int n, float scale, float shift) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  out[i] = scale_shift_at(in, i, scale, shift);
}

__global__ void relu(float* x, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  x[i] = relu_at(x[i]);
}

__global__ void conv2d_bias(const float* in, const float* weight, const float* bias, float* out, int batch,
                            int in_channels, int height, int width, int out_channels, int ksize) {
  const int out_h = height - ksize + 1, out_w = width - ksize + 1;
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= batch * out_channels * out_h * out_w) return;
  const int x = i % out_w;
  const int y = (i / out_w) % out_h;
  const int co = (i / (out_w * out_h)) % out_channels;
  const int n = i / (out_w * out_h * out_channels);
  out[i] = conv2d_bias_at(in, weight, bias, n, co, y, x, in_channels, height, width, ksize);
}

__global__ void maxpool2x2(const float* in, float* out, int batch, int channels, int height, int width) {
  const int out_h = height / 2, out_w = width / 2;
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= batch * channels * out_h * out_w) return;
  const int x = i % out_w;
  const int y = (i / out_w) % out_h;
  const int c = (i / (out_w * out_h)) % channels;
  const int n = i / (out_w * out_h * channels);
  out[i] = maxpool2x2_at(in, n, c, y, x, channels, height, width);
}

__global__ void dense(const float* in, const float* weight, const float* bias, float* out, int batch,
                      int in_features, int out_features) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= batch * out_features) return;
  out[i] = dense_at(in, weight, bias, i / out_features, i % out_features, in_features);
}

// One thread per image.
__global__ void softmax(const float* in, float* out, int batch, int classes) {
  const int n = blockIdx.x * blockDim.x + threadIdx.x;
  if (n >= batch) return;
  softmax_row(in, out, n, classes);
}

RRTO_HOST_KERNEL(scale_shift);
RRTO_HOST_KERNEL(relu);
RRTO_HOST_KERNEL(conv2d_bias);
RRTO_HOST_KERNEL(maxpool2x2);
RRTO_HOST_KERNEL(dense);
RRTO_HOST_KERNEL(softmax);

}  // namespace cnn
