// Device variables whose sizes and initial contents the module_image tests
// check: initialised, constant and zero-filled ones.
__device__ int initialised = 42;
__constant__ float constants[4] = {1.5f, 2.5f, 3.5f, 4.5f};
__device__ char zeroed[1000];
__device__ double twice = 2.0;

extern "C" __global__ void readGlobals(double* out) {
  __shared__ int staged[32];
  staged[threadIdx.x % 32] = initialised + zeroed[threadIdx.x % 1000];
  __syncthreads();
  out[0] = staged[0] + constants[1] + twice;
}
