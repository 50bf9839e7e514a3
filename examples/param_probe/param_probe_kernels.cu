// The param_probe kernel, written once: nvcc builds it into param_probe's
// fatbin, g++ into the host-kernel library librrto_example_kernels.so.
#include "param_probe.h"
#include <rrto/host_kernel.h>

__global__ void oddParams(char c, double d, Vec3f v, short s, float* out, int4 q) {
  const unsigned block = (blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
  const unsigned thread = (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
  const unsigned id = block * (blockDim.x * blockDim.y * blockDim.z) + thread;
  if (id < static_cast<unsigned>(param_probe::kMaxThreads)) out[param_probe::kThreadIdsAt + id] = static_cast<float>(id);
  if (id != 0) return;
  // Every parameter's bytes where CUDA's layout puts it.
  unsigned char* image = reinterpret_cast<unsigned char*>(out);
  memcpy(image + param_probe::kOffsetC, &c, sizeof c);
  memcpy(image + param_probe::kOffsetD, &d, sizeof d);
  memcpy(image + param_probe::kOffsetV, &v, sizeof v);
  memcpy(image + param_probe::kOffsetS, &s, sizeof s);
  memcpy(image + param_probe::kOffsetOut, &out, sizeof out);
  memcpy(image + param_probe::kOffsetQ, &q, sizeof q);
  float* values = out + param_probe::kValuesAt;
  values[0] = static_cast<float>(c);
  values[1] = static_cast<float>(d);
  values[2] = v.x;
  values[3] = v.y;
  values[4] = v.z;
  values[5] = static_cast<float>(s);
  values[6] = static_cast<float>(q.x);
  values[7] = static_cast<float>(q.y);
  values[8] = static_cast<float>(q.z);
  values[9] = static_cast<float>(q.w);
}

RRTO_HOST_KERNEL(oddParams);
