// Kernels whose parameter layouts the module_image tests check.
struct Float3 {
  float x, y, z;
};

extern "C" __global__ void oddParams(char a, double b, Float3 c, short d, float* e, int4 f) {
  if (e) e[0] = a + b + c.x + d + f.x;
}

__global__ void noParams() {}

template <typename T, int N>
__global__ void scaled(T* p, T v) {
  p[N] = v;
}
template __global__ void scaled<float, 3>(float*, float);
template __global__ void scaled<double, 1>(double*, double);

namespace ns {
struct Pair {
  int a;
  double b;
};
__global__ void withStruct(Pair p, const int* q, unsigned char c) {}
}  // namespace ns

__device__ int counter;
__device__ float table[16];
__constant__ float coeffs[4];
