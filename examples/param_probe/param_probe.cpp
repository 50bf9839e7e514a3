// param_probe: launches oddParams(char, double, Vec3f, short, float*, int4)
// through the CUDA driver API in both argument forms, kernelParams and the
// packed `extra` buffer (CU_LAUNCH_PARAM_BUFFER_POINTER/SIZE), and checks that
// the kernel received exactly the bytes and values that were passed.
//
// Exit status: 0 both forms correct, 1 a mismatch, 2 a CUDA error.
#include "examples/common/example_util.h"
#include "param_probe.h"

#include <cuda.h>

#include <cstdio>
#include <cstring>

extern "C" const unsigned char rrto_param_probe_fatbin[];

namespace {

using examples::check_cu;
using param_probe::Args;

struct Geometry {
  unsigned grid[3], block[3];
  int threads() const { return static_cast<int>(grid[0] * grid[1] * grid[2] * block[0] * block[1] * block[2]); }
};

// 0 ok, 1 mismatch, 2 CUDA error.
int probe(CUfunction f, CUdeviceptr out, bool packed, const Geometry& g) {
  const char* form = packed ? "extra (packed buffer)" : "kernelParams";
  if (!check_cu(cuMemsetD8(out, 0, param_probe::kOutFloats * sizeof(float)), "cuMemsetD8")) return 2;
  const Args a = param_probe::sample_args(out);
  CUresult r;
  if (packed) {
    alignas(16) unsigned char buffer[param_probe::kParamBytes];
    param_probe::pack(a, buffer);
    size_t size = sizeof buffer;
    void* extra[] = {CU_LAUNCH_PARAM_BUFFER_POINTER, buffer, CU_LAUNCH_PARAM_BUFFER_SIZE, &size,
                     CU_LAUNCH_PARAM_END};
    r = cuLaunchKernel(f, g.grid[0], g.grid[1], g.grid[2], g.block[0], g.block[1], g.block[2], 0, nullptr, nullptr,
                       extra);
  } else {
    // The kernel's own parameter types: int4 and Vec3f by value, float* as a device address.
    char c = a.c;
    double d = a.d;
    Vec3f v = a.v;
    short s = a.s;
    CUdeviceptr p = out;
    param_probe::Int4 q = a.q;
    void* params[] = {&c, &d, &v, &s, &p, &q};
    r = cuLaunchKernel(f, g.grid[0], g.grid[1], g.grid[2], g.block[0], g.block[1], g.block[2], 0, nullptr, params,
                       nullptr);
  }
  if (!check_cu(r, packed ? "cuLaunchKernel(oddParams, extra)" : "cuLaunchKernel(oddParams, kernelParams)"))
    return 2;
  float got[param_probe::kOutFloats];
  if (!check_cu(cuMemcpyDtoH(got, out, sizeof got), "cuMemcpyDtoH")) return 2;
  float want[param_probe::kOutFloats];
  param_probe::expected_output(a, g.threads(), want);
  for (int i = 0; i < param_probe::kOutFloats; ++i) {
    if (std::memcmp(&got[i], &want[i], sizeof(float)) == 0) continue;
    const char* what = i < param_probe::kValuesAt       ? "parameter bytes"
                       : i < param_probe::kThreadIdsAt ? "parameter values"
                                                        : "thread indices";
    std::fprintf(stderr, "param_probe: %s form: %s differ at float %d: device 0x%08x (%g), expected 0x%08x (%g)\n",
                 form, what, i, examples::float_bits(got[i]), got[i], examples::float_bits(want[i]), want[i]);
    return 1;
  }
  std::printf("param_probe: %s form: %d threads, parameters received exactly\n", form, g.threads());
  return 0;
}

int run() {
  static_assert(sizeof(param_probe::Int4) == 16 && alignof(param_probe::Int4) == 16);
  static_assert(sizeof(Vec3f) == 12 && alignof(Vec3f) == 4);
  if (!check_cu(cuInit(0), "cuInit(0)")) return 2;
  CUdevice device = 0;
  if (!check_cu(cuDeviceGet(&device, 0), "cuDeviceGet")) return 2;
  CUcontext context = nullptr;
  if (!check_cu(cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain")) return 2;
  int rc = 2;
  CUmodule module = nullptr;
  CUdeviceptr out = 0;
  CUfunction f = nullptr;
  if (check_cu(cuCtxSetCurrent(context), "cuCtxSetCurrent") &&
      check_cu(cuModuleLoadData(&module, rrto_param_probe_fatbin), "cuModuleLoadData(param_probe fatbin)") &&
      check_cu(cuModuleGetFunction(&f, module, param_probe::kKernelName), "cuModuleGetFunction(oddParams)") &&
      check_cu(cuMemAlloc(&out, param_probe::kOutFloats * sizeof(float)), "cuMemAlloc")) {
    rc = probe(f, out, false, Geometry{{2, 1, 1}, {3, 2, 1}});
    if (rc == 0) rc = probe(f, out, true, Geometry{{1, 2, 2}, {2, 1, 2}});
  }
  if (out != 0) cuMemFree(out);
  if (module != nullptr) cuModuleUnload(module);
  cuDevicePrimaryCtxRelease(device);
  return rc;
}

}  // namespace

int main() {
  examples::program = "param_probe";
  return run();
}
