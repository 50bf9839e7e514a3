// Kernels of mapped_memory, written once: nvcc builds them into the program,
// g++ into the host-kernel library (mapped_memory_host_kernels.cpp). Integer
// arithmetic only: every result is exact on any device.
#include <rrto/host_kernel.h>

namespace mapped {

// out[i] = 3 a[i] + (b[i] ^ k) (mod 2^32).
__global__ void combine(const unsigned* a, const unsigned* b, unsigned* out, int n, unsigned k) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = a[i] * 3u + (b[i] ^ k);
}

// total[i] = 5 total[i] + in[i] + i (mod 2^32).
__global__ void accumulate(const unsigned* in, unsigned* total, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) total[i] = total[i] * 5u + in[i] + static_cast<unsigned>(i);
}

RRTO_HOST_KERNEL(combine);
RRTO_HOST_KERNEL(accumulate);

}  // namespace mapped
