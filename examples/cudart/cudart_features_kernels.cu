// Kernels of cudart_features, written once: nvcc builds them into the program,
// g++ into the host-kernel library (cudart_features_host_kernels.cpp). The
// coefficients live in __constant__ memory, which the host backend serves
// from the library's registered globals (a copy per session).
#include <rrto/host_kernel.h>

namespace features {

__constant__ float coefficients[4];

// y[i] = c0 + c1 x + c2 x^2 + c3 x^3, Horner's rule.
__global__ void polynomial(const float* x, float* y, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float v = x[i];
  y[i] = ((coefficients[3] * v + coefficients[2]) * v + coefficients[1]) * v + coefficients[0];
}

__global__ void fill(int* out, int n, int value) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = value + i;
}

RRTO_HOST_KERNEL(polynomial);
RRTO_HOST_KERNEL(fill);
RRTO_HOST_GLOBAL(coefficients);

}  // namespace features
