// Kernels of launch_attributes, written once: nvcc builds them into the
// program, g++ into the host-kernel library
// (launch_attribute_host_kernels.cpp). Integer arithmetic only: every result
// is exact on any device.
#include <rrto/host_kernel.h>

namespace launch_attributes {

// out[i] = k in[i] + i. On a GPU each value passes through the block's
// dynamic shared memory, which the program sizes past the default limit
// (cudaFuncAttributeMaxDynamicSharedMemorySize); host kernels have no shared
// memory and compute it directly.
__global__ void staged_scale(const unsigned* in, unsigned* out, int n, unsigned k) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
#ifdef __CUDACC__
  extern __shared__ unsigned staged[];
  staged[threadIdx.x] = in[i] * k + static_cast<unsigned>(i);
  out[i] = staged[threadIdx.x];
#else
  out[i] = in[i] * k + static_cast<unsigned>(i);
#endif
}

// v[i] = v[i] + add + blockIdx.x, launched in clusters.
__global__ void offset_by_block(unsigned* v, int n, unsigned add) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) v[i] = v[i] + add + blockIdx.x;
}

// v[i] = v[i] * v[i] ^ salt, launched cooperatively.
__global__ void square_xor(unsigned* v, int n, unsigned salt) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) v[i] = (v[i] * v[i]) ^ salt;
}

RRTO_HOST_KERNEL(staged_scale);
RRTO_HOST_KERNEL(offset_by_block);
RRTO_HOST_KERNEL(square_xor);

}  // namespace launch_attributes
