// The kernels of spec_diverge, written once: nvcc builds them into the
// program's fatbin, g++ into librrto_example_kernels.so
// (spec_host_kernels.cpp). One thread per element.
#include <rrto/host_kernel.h>

namespace spec {

// out = a * in + b
__global__ void affine(const float* in, float* out, float a, float b, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = a * in[i] + b;
}

// y += s * x: the output depends on what the kernel found there.
__global__ void accumulate(float* y, const float* x, float s, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = y[i] + s * x[i];
}

__global__ void negate(float* x, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = -x[i];
}

// dsts[j][i] = src[i] + j: writes through pointers stored in device memory,
// as batched GEMMs do.
__global__ void scatter(float* const* dsts, const float* src, int copies, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  for (int j = 0; j < copies; ++j) dsts[j][i] = src[i] + static_cast<float>(j);
}

RRTO_HOST_KERNEL(affine);
RRTO_HOST_KERNEL(accumulate);
RRTO_HOST_KERNEL(negate);
RRTO_HOST_KERNEL(scatter);

}  // namespace spec
