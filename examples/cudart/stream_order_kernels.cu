// Kernels of host_functions and pitched_2d, written once: nvcc builds them
// into the programs, g++ into the host-kernel library
// (stream_order_host_kernels.cpp). Integer arithmetic only: every result is
// exact on any device.
#include <rrto/host_kernel.h>

#include <cstddef>

namespace stream_order {

// v[i] = 3 v[i] + step + i (mod 2^32).
__global__ void advance(unsigned* v, int n, unsigned step) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) v[i] = v[i] * 3u + step + static_cast<unsigned>(i);
}

// Over a pitched array of `height` rows of `width` ints, `pitch` bytes apart:
// a[y][x] = 2 a[y][x] + k y - x.
__global__ void pitched_affine(int* a, size_t pitch, int width, int height, int k) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= width || y >= height) return;
  int* row = reinterpret_cast<int*>(reinterpret_cast<char*>(a) + y * pitch);
  row[x] = 2 * row[x] + k * y - x;
}

RRTO_HOST_KERNEL(advance);
RRTO_HOST_KERNEL(pitched_affine);

}  // namespace stream_order
