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
RRTO_HOST_GLOBAL(server_test_table);

// Exported data that is not a registered global: no session may reach it.
__constant__ int server_test_unregistered_table[4] = {5, 6, 7, 8};

// Copies the table out: what the session's copy of the global holds.
__global__ void server_test_read_table(int* out) { out[threadIdx.x] = server_test_table[threadIdx.x]; }
RRTO_HOST_KERNEL(server_test_read_table);

// A __device__ variable that kernels change.
__device__ int server_test_counter = 7;
RRTO_HOST_GLOBAL(server_test_counter);
__global__ void server_test_bump() { ++server_test_counter; }
RRTO_HOST_KERNEL(server_test_bump);

// Writes through an address it is given as a plain integer: the server cannot
// check it, the kernel process takes the fault.
__global__ void server_test_store(unsigned long long address, int value) {
  *reinterpret_cast<volatile int*>(address) = value;
}
RRTO_HOST_KERNEL(server_test_store);

// Runs until `go_on` is 0 (volatile: the loop is not optimised away).
__global__ void server_test_spin(int go_on) {
  volatile int keep = go_on;
  while (keep != 0) {
  }
}
RRTO_HOST_KERNEL(server_test_spin);
