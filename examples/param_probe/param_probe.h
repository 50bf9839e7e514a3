// param_probe: a kernel with awkward parameters, for testing how kernel
// arguments are marshalled (kernelParams and the packed `extra` buffer).
//
//   __global__ void oddParams(char c, double d, Vec3f v, short s, float* out, int4 q);
//
// CUDA's parameter layout (offset, size): c (0,1) d (8,8) v (16,12) s (28,2)
// out (32,8) q (48,16); 64 bytes. The kernel writes into out (kOutFloats floats):
//   bytes  [0, 64)              every parameter's bytes at its offset, as received
//   floats [kValuesAt, +10)     c, d, v.x, v.y, v.z, s, q.x, q.y, q.z, q.w as float
//   floats [kThreadIdsAt, +n)   each of the n threads' linear index (x fastest)
// Plain C++: included by the kernel source, the program and the tests.
#pragma once

#include <cstdint>
#include <cstring>

struct Vec3f {
  float x, y, z;
};

namespace param_probe {

constexpr const char* kKernelName = "_Z9oddParamscd5Vec3fsPf4int4";
constexpr int kParams = 6;
// Scalars (constexpr arrays are not usable in device code).
constexpr uint32_t kOffsetC = 0, kOffsetD = 8, kOffsetV = 16, kOffsetS = 28, kOffsetOut = 32, kOffsetQ = 48;
constexpr uint32_t kOffsets[kParams] = {kOffsetC, kOffsetD, kOffsetV, kOffsetS, kOffsetOut, kOffsetQ};
constexpr uint32_t kSizes[kParams] = {1, 8, 12, 2, 8, 16};
constexpr uint32_t kParamBytes = 64;
constexpr int kOutFloats = 64;
constexpr int kValuesAt = 16;
constexpr int kThreadIdsAt = 32;
constexpr int kMaxThreads = kOutFloats - kThreadIdsAt;

// Host-side twin of CUDA's int4 (same size and alignment).
struct alignas(16) Int4 {
  int x, y, z, w;
};

struct Args {
  char c;
  double d;
  Vec3f v;
  short s;
  uint64_t out;  // the device address of the output
  Int4 q;
};

inline Args sample_args(uint64_t out) {
  Args a{};
  a.c = 'R';
  a.d = 3.25;
  a.v = Vec3f{1.5f, -2.25f, 1e-3f};
  a.s = -12345;
  a.out = out;
  a.q = Int4{1, -2, 0x7fffffff, -0x7fffffff - 1};
  return a;
}

// The parameters packed in CUDA's layout (the `extra` buffer); padding zero.
inline void pack(const Args& a, unsigned char (&buffer)[kParamBytes]) {
  std::memset(buffer, 0, kParamBytes);
  std::memcpy(buffer + kOffsets[0], &a.c, kSizes[0]);
  std::memcpy(buffer + kOffsets[1], &a.d, kSizes[1]);
  std::memcpy(buffer + kOffsets[2], &a.v, kSizes[2]);
  std::memcpy(buffer + kOffsets[3], &a.s, kSizes[3]);
  std::memcpy(buffer + kOffsets[4], &a.out, kSizes[4]);
  std::memcpy(buffer + kOffsets[5], &a.q, kSizes[5]);
}

// What the kernel writes for these arguments over `threads` threads, given
// that the output buffer was zeroed before the launch.
inline void expected_output(const Args& a, int threads, float (&out)[kOutFloats]) {
  std::memset(out, 0, sizeof out);
  unsigned char image[kParamBytes];
  pack(a, image);
  std::memcpy(out, image, kParamBytes);
  const float values[10] = {static_cast<float>(a.c),   static_cast<float>(a.d),   a.v.x, a.v.y, a.v.z,
                            static_cast<float>(a.s),   static_cast<float>(a.q.x), static_cast<float>(a.q.y),
                            static_cast<float>(a.q.z), static_cast<float>(a.q.w)};
  std::memcpy(out + kValuesAt, values, sizeof values);
  for (int i = 0; i < threads && i < kMaxThreads; ++i) out[kThreadIdsAt + i] = static_cast<float>(i);
}

}  // namespace param_probe
