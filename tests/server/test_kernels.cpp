// Host-kernel library of the server tests: CPU versions of a few kernels,
// written as CUDA source (see include/rrto/host_kernel.h).
#include <rrto/host_kernel.h>

__global__ void server_test_scale(float* data, float factor, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) data[i] *= factor;
}
RRTO_HOST_KERNEL(server_test_scale);

// Parameters of mixed sizes and alignments: (0,1) (8,8) (16,4).
__global__ void server_test_mixed(char tag, double* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = tag + i;
}
RRTO_HOST_KERNEL(server_test_mixed);

// Exported under its name but deliberately not registered: it has no CPU version.
__global__ void server_test_unregistered(int* p) { *p = 1; }

__constant__ int server_test_table[4] = {1, 2, 3, 4};
