// Kernels of virtual_memory, written once: nvcc builds them into the program,
// g++ into the host-kernel library (virtual_memory_host_kernels.cpp). Integer
// arithmetic only: every result is exact on any device.
#include <rrto/host_kernel.h>

namespace vmm {

// data[i] = 7 data[i] + (i ^ k) (mod 2^32).
__global__ void mix(unsigned* data, int n, unsigned k) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) data[i] = data[i] * 7u + (static_cast<unsigned>(i) ^ k);
}

RRTO_HOST_KERNEL(mix);

}  // namespace vmm
