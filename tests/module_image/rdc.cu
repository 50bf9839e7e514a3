// Relocatable device code: a non-kernel device function also gets a
// .nv.info.<name> section; it must not be reported as a kernel.
__device__ __noinline__ float helper(float* p, int i, double d) { return p[i] + d; }
extern __device__ float external_fn(float);

extern "C" __global__ void useHelper(float* p, int n) { p[n] = external_fn(helper(p, n, 2.0)); }

__device__ int rdc_counter;
