// The kernels, written once: nvcc compiles them into my_program (my_program.cu
// includes this header), g++ into the host-kernel library (my_kernels.cpp
// includes it and registers each kernel). Everything here must therefore be
// both valid CUDA and, through <rrto/host_kernel.h>, valid C++.
#pragma once

#include <rrto/host_kernel.h>

namespace physics {

struct Affine {
  float scale;
  float offset;
  int n;
};

// A struct by value: its bytes travel as one kernel parameter.
__global__ void affine(const float* x, float* y, Affine p) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < p.n) y[i] = x[i] * p.scale + p.offset;
}

}  // namespace physics

template <typename T>
__global__ void add(const T* a, const T* b, T* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = a[i] + b[i];
}
// The instantiations the program launches, named next to the template, so
// that nvcc and g++ build the same ones.
template __global__ void add<float>(const float*, const float*, float*, int);
template __global__ void add<int>(const int*, const int*, int*, int);

__global__ void square(float* x, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = x[i] * x[i];
}
