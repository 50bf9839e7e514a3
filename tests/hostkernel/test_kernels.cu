// Kernels for the host-kernel loader tests: built by g++ into
// librrto_test_kernels.so (test_kernels_host.cpp) and by nvcc into PTX, whose
// .entry names and parameter lists the tests compare with the library's.
#include <rrto/host_kernel.h>

struct Pair {
  int a;
  double b;
};

namespace hk_test {

template <typename T>
__global__ void fill(T* out, T value, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = value;
}
template __global__ void fill<float>(float*, float, int);
template __global__ void fill<int4>(int4*, int4, int);
template __global__ void fill<double2>(double2*, double2, int);

// Records the order in which the launcher visits threads: out[k] is the
// linear (x-fastest) index of the k-th thread run, and the geometry it saw.
__global__ void record_order(unsigned* out, unsigned* counter, uint3* seen_dims) {
  const unsigned seq = atomicAdd(counter, 1u);
  const unsigned block = (blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
  const unsigned thread = (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
  out[seq] = block * (blockDim.x * blockDim.y * blockDim.z) + thread;
  if (seq == 0) {
    seen_dims[0] = make_uint3(gridDim.x, gridDim.y, gridDim.z);
    seen_dims[1] = make_uint3(blockDim.x, blockDim.y, blockDim.z);
  }
}

__global__ void trap_if(const int* flag, int* after) {
  if (*flag != 0) __trap();
  *after = 1;
}

// Parameters of many kinds and alignments.
__global__ void many_types(unsigned char a, unsigned short b, long long c, float2 d, char3 e, double f, bool g,
                           uchar4 h, Pair i, const float* __restrict__ j, ulonglong2 k, short l, float3 m,
                           double* out) {
  out[0] = a + b + static_cast<double>(c) + d.x + d.y + e.x + e.y + e.z + f + (g ? 1 : 0) + h.x + h.y + h.z + h.w +
           i.a + i.b + j[0] + static_cast<double>(k.x) + static_cast<double>(k.y) + l + m.x + m.y + m.z;
}

__global__ void no_params() {}

// Exported (it is a __global__ function) but never registered below.
__global__ void exported_not_registered(int* p) { *p = 1; }

}  // namespace hk_test

extern "C" __global__ void c_linkage_kernel(float* out, float v) { out[threadIdx.x] = v; }

__constant__ float hk_test_table[4] = {1.0f, 2.0f, 4.0f, 8.0f};

__global__ void read_table(float* out) { out[threadIdx.x] = hk_test_table[threadIdx.x]; }

RRTO_HOST_KERNEL(hk_test::fill<float>);
RRTO_HOST_KERNEL(hk_test::fill<int4>);
RRTO_HOST_KERNEL(hk_test::fill<double2>);
RRTO_HOST_KERNEL(hk_test::record_order);
RRTO_HOST_KERNEL(hk_test::trap_if);
RRTO_HOST_KERNEL(hk_test::many_types);
RRTO_HOST_KERNEL(hk_test::no_params);
RRTO_HOST_KERNEL(c_linkage_kernel);
RRTO_HOST_KERNEL(read_table);
RRTO_HOST_KERNEL(read_table);  // a second registration is ignored
RRTO_HOST_GLOBAL(hk_test_table);
