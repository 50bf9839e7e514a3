// Kernels of the graph example, written once: nvcc builds them into the
// program, g++ into the host-kernel library (graph_host_kernels.cpp).
// Integer arithmetic: every result is exact on any device.
#include <rrto/host_kernel.h>

namespace graph_example {

constexpr int kModulus = 10007;

__global__ void scale_add(const int* x, int* y, int n, int scale) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = x[i] * scale + i;
}

__global__ void square_mod(int* y, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = (y[i] * y[i]) % kModulus;
}

__global__ void add(const int* a, const int* b, int* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] += a[i] + b[i];
}

RRTO_HOST_KERNEL(scale_add);
RRTO_HOST_KERNEL(square_mod);
RRTO_HOST_KERNEL(add);

}  // namespace graph_example
