// Parameters past 4 KiB: nvcc then writes EIATTR_KPARAM_INFO_V2 records.
struct Big {
  char b[20000];
};
struct Mid {
  char b[5000];
};

extern "C" __global__ void bigParam(int a, Big b, int c) {}
extern "C" __global__ void midMix(Mid m, float* __restrict__ p, char c, int4 v, const __grid_constant__ Mid g) {}
