// rrto/host_kernel.h: write a CUDA kernel once, build it for the GPU with nvcc
// and as plain C++ (g++/clang++) into a host-kernel library for rrto-server's
// `host` backend (an emulated device that runs kernels on the CPU).
//
//   #include <rrto/host_kernel.h>
//   __global__ void scale(float* p, float s, int n) {
//     int i = blockIdx.x * blockDim.x + threadIdx.x;
//     if (i < n) p[i] *= s;
//   }
//   RRTO_HOST_KERNEL(scale);   // once per kernel; nothing under nvcc
//
// Under nvcc (__CUDACC__) this header only defines RRTO_HOST_KERNEL as a no-op.
// Compiled as plain C++ it
//   - defines __global__ as "exported" (visibility default) so that the kernel
//     is in the library's dynamic symbol table under its Itanium-mangled name,
//     the same name nvcc gives it; __device__, __host__ go away; __forceinline__
//     is inline;
//   - provides the CUDA vector types (int4, float2, dim3, ...) with CUDA's sizes
//     and alignments, and threadIdx/blockIdx/blockDim/gridDim as thread_local
//     variables that the launch trampoline sets;
//   - maps the common device math intrinsics onto <cmath>, and atomics onto
//     plain read-modify-write (blocks and threads run one after the other);
//   - makes __syncthreads(), warp primitives and __shared__ compile errors:
//     a sequential loop over threads cannot honour a barrier.
// RRTO_HOST_KERNEL(kernel) records the kernel in the table returned by the
// library's entry point rrto_host_kernels() (see host_kernel_abi.h), with
// a launch trampoline and the parameter layout (which parameters are
// pointers included). RRTO_HOST_GLOBAL(variable) records a __constant__ or
// __device__ variable: only recorded variables can be reached by name
// (cuModuleGetGlobal), and each session gets its own copy. The ABI is described in
// server/hostkernel/README.md of RRTO's sources (installed as
// share/doc/rrto/host-kernels.md).
#pragma once

#if defined(__CUDACC__)

// nvcc (device and host passes): kernels are real CUDA kernels.
#define RRTO_HOST_KERNEL_BUILD 0
#define RRTO_HOST_KERNEL(...) static_assert(true, "")
#define RRTO_HOST_GLOBAL(...) static_assert(true, "")

#else  // plain C++: build the host-kernel library

#ifndef __cplusplus
#error "rrto/host_kernel.h: kernel sources must be compiled as C++"
#endif

#include "host_kernel_abi.h"

#include <math.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

#define RRTO_HOST_KERNEL_BUILD 1

#define RRTO_HK_EXPORT __attribute__((visibility("default")))
#define RRTO_HK_HIDDEN __attribute__((visibility("hidden")))

// ---- CUDA keywords -------------------------------------------------------------

// A kernel is exported under its mangled name: the server finds it with dlsym.
#define __global__ RRTO_HK_EXPORT
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)
#define __grid_constant__
#define __align__(n) __attribute__((aligned(n)))
#define __builtin_align__(n) __attribute__((aligned(n)))
// __constant__ data becomes an exported global, so that its name is nvcc's
// (RRTO_HOST_GLOBAL records it).
#define __constant__ RRTO_HK_EXPORT
// Threads of a block run one after the other: memory shared between them
// cannot work as on a GPU.
#define __shared__                                                                        \
  _Pragma("GCC error \"rrto/host_kernel.h: __shared__ memory is not supported in host-kernel " \
          "libraries (threads of a block run sequentially)\"")
#define __managed__                                                                       \
  _Pragma("GCC error \"rrto/host_kernel.h: __managed__ memory is not supported in host-kernel " \
          "libraries\"")
// (__noinline__ is deliberately not defined: libstdc++ spells
// __attribute__((__noinline__)) itself. Use __attribute__((noinline)).)

// ---- vector types (CUDA's vector_types.h, same sizes and alignments) -----------------

#if !defined(__VECTOR_TYPES_H__)
#define __VECTOR_TYPES_H__  // a later #include <vector_types.h> becomes a no-op
#define RRTO_HK_VEC1(name, T, A)                                   \
  struct __attribute__((visibility("default"), aligned(A))) name {                                         \
    T x;                                                           \
  };                                                               \
  RRTO_HK_HIDDEN inline constexpr name make_##name(T x) { return name{x}; }
#define RRTO_HK_VEC2(name, T, A)                                   \
  struct __attribute__((visibility("default"), aligned(A))) name {                                         \
    T x, y;                                                        \
  };                                                               \
  RRTO_HK_HIDDEN inline constexpr name make_##name(T x, T y) { return name{x, y}; }
#define RRTO_HK_VEC3(name, T, A)                                   \
  struct __attribute__((visibility("default"), aligned(A))) name {                                         \
    T x, y, z;                                                     \
  };                                                               \
  RRTO_HK_HIDDEN inline constexpr name make_##name(T x, T y, T z) { return name{x, y, z}; }
#define RRTO_HK_VEC4(name, T, A)                                   \
  struct __attribute__((visibility("default"), aligned(A))) name {                                         \
    T x, y, z, w;                                                  \
  };                                                               \
  RRTO_HK_HIDDEN inline constexpr name make_##name(T x, T y, T z, T w) { return name{x, y, z, w}; }

RRTO_HK_VEC1(char1, signed char, 1)
RRTO_HK_VEC2(char2, signed char, 2)
RRTO_HK_VEC3(char3, signed char, 1)
RRTO_HK_VEC4(char4, signed char, 4)
RRTO_HK_VEC1(uchar1, unsigned char, 1)
RRTO_HK_VEC2(uchar2, unsigned char, 2)
RRTO_HK_VEC3(uchar3, unsigned char, 1)
RRTO_HK_VEC4(uchar4, unsigned char, 4)
RRTO_HK_VEC1(short1, short, 2)
RRTO_HK_VEC2(short2, short, 4)
RRTO_HK_VEC3(short3, short, 2)
RRTO_HK_VEC4(short4, short, 8)
RRTO_HK_VEC1(ushort1, unsigned short, 2)
RRTO_HK_VEC2(ushort2, unsigned short, 4)
RRTO_HK_VEC3(ushort3, unsigned short, 2)
RRTO_HK_VEC4(ushort4, unsigned short, 8)
RRTO_HK_VEC1(int1, int, 4)
RRTO_HK_VEC2(int2, int, 8)
RRTO_HK_VEC3(int3, int, 4)
RRTO_HK_VEC4(int4, int, 16)
RRTO_HK_VEC1(uint1, unsigned int, 4)
RRTO_HK_VEC2(uint2, unsigned int, 8)
RRTO_HK_VEC3(uint3, unsigned int, 4)
RRTO_HK_VEC4(uint4, unsigned int, 16)
RRTO_HK_VEC1(long1, long, alignof(long))
RRTO_HK_VEC2(long2, long, 2 * sizeof(long))
RRTO_HK_VEC3(long3, long, alignof(long))
RRTO_HK_VEC4(long4, long, 16)
RRTO_HK_VEC4(long4_16a, long, 16)
RRTO_HK_VEC4(long4_32a, long, 32)
RRTO_HK_VEC1(ulong1, unsigned long, alignof(unsigned long))
RRTO_HK_VEC2(ulong2, unsigned long, 2 * sizeof(unsigned long))
RRTO_HK_VEC3(ulong3, unsigned long, alignof(unsigned long))
RRTO_HK_VEC4(ulong4, unsigned long, 16)
RRTO_HK_VEC4(ulong4_16a, unsigned long, 16)
RRTO_HK_VEC4(ulong4_32a, unsigned long, 32)
RRTO_HK_VEC1(longlong1, long long, 8)
RRTO_HK_VEC2(longlong2, long long, 16)
RRTO_HK_VEC3(longlong3, long long, 8)
RRTO_HK_VEC4(longlong4, long long, 16)
RRTO_HK_VEC4(longlong4_16a, long long, 16)
RRTO_HK_VEC4(longlong4_32a, long long, 32)
RRTO_HK_VEC1(ulonglong1, unsigned long long, 8)
RRTO_HK_VEC2(ulonglong2, unsigned long long, 16)
RRTO_HK_VEC3(ulonglong3, unsigned long long, 8)
RRTO_HK_VEC4(ulonglong4, unsigned long long, 16)
RRTO_HK_VEC4(ulonglong4_16a, unsigned long long, 16)
RRTO_HK_VEC4(ulonglong4_32a, unsigned long long, 32)
RRTO_HK_VEC1(float1, float, 4)
RRTO_HK_VEC2(float2, float, 8)
RRTO_HK_VEC3(float3, float, 4)
RRTO_HK_VEC4(float4, float, 16)
RRTO_HK_VEC1(double1, double, 8)
RRTO_HK_VEC2(double2, double, 16)
RRTO_HK_VEC3(double3, double, 8)
RRTO_HK_VEC4(double4, double, 16)
RRTO_HK_VEC4(double4_16a, double, 16)
RRTO_HK_VEC4(double4_32a, double, 32)

#undef RRTO_HK_VEC1
#undef RRTO_HK_VEC2
#undef RRTO_HK_VEC3
#undef RRTO_HK_VEC4

struct RRTO_HK_EXPORT dim3 {
  unsigned int x, y, z;
  RRTO_HK_HIDDEN constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1)
      : x(vx), y(vy), z(vz) {}
  RRTO_HK_HIDDEN constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  RRTO_HK_HIDDEN constexpr operator uint3() const { return uint3{x, y, z}; }
};
#endif  // !__VECTOR_TYPES_H__

static_assert(sizeof(int4) == 16 && alignof(int4) == 16, "int4 must match CUDA");
static_assert(sizeof(float2) == 8 && alignof(float2) == 8, "float2 must match CUDA");
static_assert(sizeof(double2) == 16 && alignof(double2) == 16, "double2 must match CUDA");
static_assert(sizeof(char3) == 3 && alignof(char3) == 1, "char3 must match CUDA");
static_assert(sizeof(dim3) == 12 && alignof(dim3) == 4, "dim3 must match CUDA");

// What follows is private to the library: only kernels (and __constant__ data)
// and the entry point are exported, explicitly. The vector types above are
// visible so that template kernels instantiated with them are exported.
#pragma GCC visibility push(hidden)

// ---- built-in variables -------------------------------------------------------------
// Set by the launch trampoline of this library, per calling thread, so that a
// server may run launches on several threads at once.

RRTO_HK_HIDDEN inline thread_local uint3 threadIdx{0, 0, 0};
RRTO_HK_HIDDEN inline thread_local uint3 blockIdx{0, 0, 0};
RRTO_HK_HIDDEN inline thread_local dim3 blockDim{1, 1, 1};
RRTO_HK_HIDDEN inline thread_local dim3 gridDim{1, 1, 1};
constexpr int warpSize = 32;

// ---- what a sequential launcher cannot do ----------------------------------------------

namespace rrto_hostkernel_detail __attribute__((visibility("hidden"))) {
template <class... T>
inline constexpr bool unsupported = false;
struct trap_exception {};
}  // namespace rrto_hostkernel_detail

#define RRTO_HK_UNSUPPORTED(fn, why)                                                     \
  template <class... T>                                                                  \
  inline void fn(T...) {                                                                 \
    static_assert(::rrto_hostkernel_detail::unsupported<T...>,                           \
                  "rrto/host_kernel.h: " #fn "() is not supported in host-kernel libraries: " why); \
  }
RRTO_HK_UNSUPPORTED(__syncthreads, "the threads of a block run one after the other, a barrier cannot be honoured")
RRTO_HK_UNSUPPORTED(__syncthreads_count, "the threads of a block run one after the other")
RRTO_HK_UNSUPPORTED(__syncthreads_and, "the threads of a block run one after the other")
RRTO_HK_UNSUPPORTED(__syncthreads_or, "the threads of a block run one after the other")
RRTO_HK_UNSUPPORTED(__syncwarp, "threads run one after the other, there are no warps")
RRTO_HK_UNSUPPORTED(__shfl_sync, "threads run one after the other, there are no warps")
RRTO_HK_UNSUPPORTED(__shfl_up_sync, "threads run one after the other, there are no warps")
RRTO_HK_UNSUPPORTED(__shfl_down_sync, "threads run one after the other, there are no warps")
RRTO_HK_UNSUPPORTED(__shfl_xor_sync, "threads run one after the other, there are no warps")
RRTO_HK_UNSUPPORTED(__ballot_sync, "threads run one after the other, there are no warps")
RRTO_HK_UNSUPPORTED(__any_sync, "threads run one after the other, there are no warps")
RRTO_HK_UNSUPPORTED(__all_sync, "threads run one after the other, there are no warps")
#undef RRTO_HK_UNSUPPORTED

// __threadfence*: all threads run on one CPU thread, memory is already ordered.
inline void __threadfence() {}
inline void __threadfence_block() {}
inline void __threadfence_system() {}

// Aborts the launch: the trampoline returns RRTO_HOST_KERNEL_TRAP (the server
// reports a launch failure) instead of taking the server process down.
[[noreturn]] inline void __trap() {
#if defined(__cpp_exceptions)
  throw ::rrto_hostkernel_detail::trap_exception{};
#else
  std::abort();
#endif
}

// ---- device intrinsics -----------------------------------------------------------------
// Fast-math intrinsics map to the accurate <cmath> functions: results are the
// host library's, not bit-identical to a GPU's approximations.

inline float __expf(float x) { return ::expf(x); }
inline float __exp10f(float x) { return ::powf(10.0f, x); }
inline float __logf(float x) { return ::logf(x); }
inline float __log2f(float x) { return ::log2f(x); }
inline float __log10f(float x) { return ::log10f(x); }
inline float __powf(float x, float y) { return ::powf(x, y); }
inline float __sinf(float x) { return ::sinf(x); }
inline float __cosf(float x) { return ::cosf(x); }
inline float __tanf(float x) { return ::tanf(x); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return ::sqrtf(x); }
inline float __fadd_rn(float x, float y) { return x + y; }
inline float __fsub_rn(float x, float y) { return x - y; }
inline float __fmul_rn(float x, float y) { return x * y; }
inline float __fdiv_rn(float x, float y) { return x / y; }
inline float __fmaf_rn(float x, float y, float z) { return ::fmaf(x, y, z); }
inline double __dadd_rn(double x, double y) { return x + y; }
inline double __dmul_rn(double x, double y) { return x * y; }
inline double __fma_rn(double x, double y, double z) { return ::fma(x, y, z); }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : (x == x ? x : 0.0f)); }
inline float rsqrtf(float x) { return 1.0f / ::sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / ::sqrt(x); }
inline float exp10f(float x) { return ::powf(10.0f, x); }

inline int __float_as_int(float x) { int r; std::memcpy(&r, &x, sizeof r); return r; }
inline unsigned int __float_as_uint(float x) { unsigned int r; std::memcpy(&r, &x, sizeof r); return r; }
inline float __int_as_float(int x) { float r; std::memcpy(&r, &x, sizeof r); return r; }
inline float __uint_as_float(unsigned int x) { float r; std::memcpy(&r, &x, sizeof r); return r; }
inline long long __double_as_longlong(double x) { long long r; std::memcpy(&r, &x, sizeof r); return r; }
inline double __longlong_as_double(long long x) { double r; std::memcpy(&r, &x, sizeof r); return r; }
inline int __float2int_rz(float x) { return static_cast<int>(x); }
inline int __float2int_rn(float x) { return static_cast<int>(::nearbyintf(x)); }
inline int __float2int_rd(float x) { return static_cast<int>(::floorf(x)); }
inline int __float2int_ru(float x) { return static_cast<int>(::ceilf(x)); }
inline float __int2float_rn(int x) { return static_cast<float>(x); }

inline int __popc(unsigned int x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned int>(x)); }
inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(x)); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline unsigned int __brev(unsigned int x) {
  unsigned int r = 0;
  for (int i = 0; i < 32; ++i) r |= ((x >> i) & 1u) << (31 - i);
  return r;
}

// CUDA's global min/max overloads.
inline int min(int a, int b) { return a < b ? a : b; }
inline unsigned int min(unsigned int a, unsigned int b) { return a < b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline float min(float a, float b) { return ::fminf(a, b); }
inline double min(double a, double b) { return ::fmin(a, b); }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned int max(unsigned int a, unsigned int b) { return a > b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
inline float max(float a, float b) { return ::fmaxf(a, b); }
inline double max(double a, double b) { return ::fmax(a, b); }

// Read-only cache loads.
template <class T>
inline T __ldg(const T* p) { return *p; }

// ---- atomics ---------------------------------------------------------------------------
// Blocks and threads of one launch run one after the other on one CPU thread,
// so a plain read-modify-write is atomic with respect to the kernel. (Two
// launches that run concurrently on different server threads must not share
// memory, as two unsynchronised GPU streams must not.)

template <class T, class U>
inline T atomicAdd(T* a, U v) { T old = *a; *a = static_cast<T>(old + v); return old; }
template <class T, class U>
inline T atomicSub(T* a, U v) { T old = *a; *a = static_cast<T>(old - v); return old; }
template <class T, class U>
inline T atomicExch(T* a, U v) { T old = *a; *a = static_cast<T>(v); return old; }
template <class T, class U>
inline T atomicMin(T* a, U v) { T old = *a; if (static_cast<T>(v) < old) *a = static_cast<T>(v); return old; }
template <class T, class U>
inline T atomicMax(T* a, U v) { T old = *a; if (static_cast<T>(v) > old) *a = static_cast<T>(v); return old; }
template <class T, class U>
inline T atomicAnd(T* a, U v) { T old = *a; *a = static_cast<T>(old & v); return old; }
template <class T, class U>
inline T atomicOr(T* a, U v) { T old = *a; *a = static_cast<T>(old | v); return old; }
template <class T, class U>
inline T atomicXor(T* a, U v) { T old = *a; *a = static_cast<T>(old ^ v); return old; }
template <class T, class U, class V>
inline T atomicCAS(T* a, U compare, V v) {
  T old = *a;
  if (old == static_cast<T>(compare)) *a = static_cast<T>(v);
  return old;
}
inline unsigned int atomicInc(unsigned int* a, unsigned int limit) {
  unsigned int old = *a;
  *a = old >= limit ? 0u : old + 1u;
  return old;
}
inline unsigned int atomicDec(unsigned int* a, unsigned int limit) {
  unsigned int old = *a;
  *a = (old == 0u || old > limit) ? limit : old - 1u;
  return old;
}

// ---- registration: RRTO_HOST_KERNEL(kernel) -------------------------------------------
// Everything below is private to each library (hidden) and uses no std::
// templates, so that a library exports its kernels and its entry point only,
// and several host-kernel libraries loaded into one server never share state.

namespace rrto_hostkernel_detail __attribute__((visibility("hidden"))) {

constexpr uint32_t align_up(uint32_t v, uint32_t a) { return (v + a - 1) / a * a; }

template <uint32_t N>
struct layout_result {
  rrto_host_kernel_param params[N > 0 ? N : 1];
  uint32_t buffer_size;
};

template <class... A>
constexpr layout_result<sizeof...(A)> compute_layout() {
  layout_result<sizeof...(A)> r{};
  uint32_t offset = 0;
  uint32_t i = 0;
  (((offset = align_up(offset, static_cast<uint32_t>(alignof(A)))),
    (r.params[i++] = rrto_host_kernel_param{offset, static_cast<uint32_t>(sizeof(A)),
                                            std::is_pointer_v<A> ? RRTO_HOST_KERNEL_PARAM_POINTER : 0u, 0u}),
    (offset += static_cast<uint32_t>(sizeof(A)))),
   ...);
  r.buffer_size = offset;
  return r;
}

template <class... A>
constexpr std::size_t max_alignof() {
  std::size_t a = 1;
  ((a = alignof(A) > a ? alignof(A) : a), ...);
  return a;
}

inline bool valid_config(const rrto_host_launch_config* cfg) {
  if (cfg == nullptr) return false;
  for (int d = 0; d < 3; ++d)
    if (cfg->grid_dim[d] == 0 || cfg->block_dim[d] == 0) return false;
  return true;
}

// Runs call_one() for every thread of the grid, x fastest, block by block.
template <class Call>
inline int32_t run_grid(const rrto_host_launch_config* cfg, const Call& call_one) noexcept {
  const uint3 saved_thread = threadIdx, saved_block = blockIdx;
  const dim3 saved_block_dim = blockDim, saved_grid_dim = gridDim;
  int32_t rc = RRTO_HOST_KERNEL_SUCCESS;
  gridDim = dim3(cfg->grid_dim[0], cfg->grid_dim[1], cfg->grid_dim[2]);
  blockDim = dim3(cfg->block_dim[0], cfg->block_dim[1], cfg->block_dim[2]);
#if defined(__cpp_exceptions)
  try {
#endif
    for (uint32_t bz = 0; bz < cfg->grid_dim[2]; ++bz)
      for (uint32_t by = 0; by < cfg->grid_dim[1]; ++by)
        for (uint32_t bx = 0; bx < cfg->grid_dim[0]; ++bx) {
          blockIdx = uint3{bx, by, bz};
          for (uint32_t tz = 0; tz < cfg->block_dim[2]; ++tz)
            for (uint32_t ty = 0; ty < cfg->block_dim[1]; ++ty)
              for (uint32_t tx = 0; tx < cfg->block_dim[0]; ++tx) {
                threadIdx = uint3{tx, ty, tz};
                call_one();
              }
        }
#if defined(__cpp_exceptions)
  } catch (const trap_exception&) {
    rc = RRTO_HOST_KERNEL_TRAP;
  } catch (...) {
    rc = RRTO_HOST_KERNEL_EXCEPTION;
  }
#endif
  threadIdx = saved_thread;
  blockIdx = saved_block;
  blockDim = saved_block_dim;
  gridDim = saved_grid_dim;
  return rc;
}

template <class... A>
struct kernel_signature {
  static_assert((!std::is_reference_v<A> && ...), "kernel parameters cannot be references");
  static_assert((std::is_trivially_copyable_v<A> && ...),
                "kernel parameters must be trivially copyable (they are copied as bytes)");
  static constexpr uint32_t count = sizeof...(A);
  static constexpr layout_result<sizeof...(A)> layout = compute_layout<A...>();
  static_assert(layout.buffer_size <= 32764, "kernel parameters exceed CUDA's 32764-byte limit");

  template <auto F, std::size_t... I>
  static int32_t launch_impl(const rrto_host_launch_config* cfg, void* const* args,
                             std::index_sequence<I...>) noexcept {
    if (!valid_config(cfg)) return RRTO_HOST_KERNEL_INVALID_VALUE;
    // One aligned copy of the argument bytes per launch (the caller's need no
    // alignment); every thread gets its own by-value copy, as on a GPU.
    alignas(max_alignof<A...>()) unsigned char values[layout.buffer_size > 0 ? layout.buffer_size : 1];
    if constexpr (sizeof...(A) > 0) {
      if (args == nullptr) return RRTO_HOST_KERNEL_INVALID_VALUE;
      for (uint32_t i = 0; i < count; ++i) {
        if (args[i] == nullptr) return RRTO_HOST_KERNEL_INVALID_VALUE;
        __builtin_memcpy(values + layout.params[i].offset, args[i], layout.params[i].size);
      }
    }
    return run_grid(cfg, [&]() {
      F(*__builtin_launder(reinterpret_cast<A*>(values + layout.params[I].offset))...);
    });
  }
};

template <auto F>
struct kernel_info {
  static_assert(sizeof(F) == 0,
                "RRTO_HOST_KERNEL(f): f must name a __global__ function returning void "
                "(for an overloaded name, cast it: static_cast<void (*)(int*)>(f))");
};

template <class... A, void (*F)(A...)>
struct kernel_info<F> {
  using signature = kernel_signature<A...>;
  static int32_t launch(const rrto_host_launch_config* cfg, void* const* args) noexcept {
    return signature::template launch_impl<F>(cfg, args, std::index_sequence_for<A...>{});
  }
};

template <class... A, void (*F)(A...) noexcept>
struct kernel_info<F> {
  using signature = kernel_signature<A...>;
  static int32_t launch(const rrto_host_launch_config* cfg, void* const* args) noexcept {
    return signature::template launch_impl<F>(cfg, args, std::index_sequence_for<A...>{});
  }
};

// Appends `node` to the list [first, last] unless a node for the same
// address is there already (registered twice: keep one).
template <class Node>
inline void append_once(Node* node, Node*& first, Node*& last) {
  for (Node* n = first; n != nullptr; n = n->next)
    if (n->address() == node->address()) return;
  if (last != nullptr) last->next = node;
  else first = node;
  last = node;
}

// The registered kernels, in registration order (a list of static nodes: no
// allocation before the table is asked for).
struct registrar;
inline registrar* first = nullptr;
inline registrar* last = nullptr;

struct registrar {
  rrto_host_kernel_entry entry;
  registrar* next = nullptr;

  template <auto F>
  static rrto_host_kernel_entry make_entry(const char* source_name) {
    using signature = typename kernel_info<F>::signature;
    rrto_host_kernel_entry e{};
    e.function = reinterpret_cast<const void*>(F);
    e.launch = &kernel_info<F>::launch;
    e.source_name = source_name;
    e.param_count = signature::count;
    e.param_buffer_size = signature::layout.buffer_size;
    e.params = signature::count > 0 ? signature::layout.params : nullptr;
    return e;
  }

  explicit registrar(const rrto_host_kernel_entry& e) : entry(e) { append_once(this, first, last); }
  const void* address() const { return entry.function; }
  registrar(const registrar&) = delete;
  registrar& operator=(const registrar&) = delete;
};

// The registered globals, the same way.
struct global_registrar;
inline global_registrar* first_global = nullptr;
inline global_registrar* last_global = nullptr;

struct global_registrar {
  rrto_host_global global;
  global_registrar* next = nullptr;

  global_registrar(void* address, uint64_t size, const char* source_name) : global{address, size, source_name} {
    append_once(this, first_global, last_global);
  }
  const void* address() const { return global.address; }
  global_registrar(const global_registrar&) = delete;
  global_registrar& operator=(const global_registrar&) = delete;
};

// A copy of a registration list as an array (nullptr when empty or out of
// memory); n is its length.
template <class Entry, class Node, class Get>
inline Entry* list_to_array(Node* head, Get get, uint32_t& n) {
  n = 0;
  for (Node* k = head; k != nullptr; k = k->next) ++n;
  Entry* out = n > 0 ? new (std::nothrow) Entry[n] : nullptr;
  if (out == nullptr) {
    n = 0;
    return nullptr;
  }
  uint32_t i = 0;
  for (Node* k = head; k != nullptr; k = k->next) out[i++] = get(*k);
  return out;
}

// Built on first call, after the library's static constructors (which
// register the kernels) have run; freed when the library is unloaded.
struct table_holder {
  rrto_host_kernel_table table{};
  rrto_host_kernel_entry* entries = nullptr;
  rrto_host_global* globals = nullptr;

  table_holder() {
    table.abi_version = RRTO_HOST_KERNEL_ABI_VERSION;
    table.entry_size = sizeof(rrto_host_kernel_entry);
    entries = list_to_array<rrto_host_kernel_entry>(first, [](const registrar& r) { return r.entry; }, table.count);
    globals = list_to_array<rrto_host_global>(first_global, [](const global_registrar& g) { return g.global; },
                                              table.global_count);
    table.entries = entries;
    table.globals = globals;
  }
  ~table_holder() {
    delete[] entries;
    delete[] globals;
  }
  table_holder(const table_holder&) = delete;
  table_holder& operator=(const table_holder&) = delete;
};

inline const rrto_host_kernel_table* table() {
  static const table_holder holder;
  return &holder.table;
}

}  // namespace rrto_hostkernel_detail

// The library's entry point. Inline: every translation unit that includes this
// header may emit it, the linker keeps one.
extern "C" RRTO_HK_EXPORT __attribute__((used)) inline const rrto_host_kernel_table*
rrto_host_kernels(void) {
  return ::rrto_hostkernel_detail::table();
}

#pragma GCC visibility pop

#define RRTO_HK_CONCAT_(a, b) a##b
#define RRTO_HK_CONCAT(a, b) RRTO_HK_CONCAT_(a, b)

// Registers one kernel. Place it at namespace scope, once per kernel, after
// the kernel's definition; template kernels name one instantiation:
//   RRTO_HOST_KERNEL(conv2d);
//   RRTO_HOST_KERNEL(ns::scale<float>);
#define RRTO_HOST_KERNEL(...)                                                            \
  [[maybe_unused]] static ::rrto_hostkernel_detail::registrar RRTO_HK_CONCAT(           \
      rrto_host_kernel_registrar_, __COUNTER__) {                                        \
    ::rrto_hostkernel_detail::registrar::make_entry<(__VA_ARGS__)>(#__VA_ARGS__)         \
  }

// Records a __constant__ or __device__ variable, so that a client can reach it
// by name (cuModuleGetGlobal, cudaMemcpyToSymbol). At namespace scope, once
// per variable, after its definition:
//   RRTO_HOST_GLOBAL(coefficients);
#define RRTO_HOST_GLOBAL(...)                                                            \
  [[maybe_unused]] static ::rrto_hostkernel_detail::global_registrar RRTO_HK_CONCAT(    \
      rrto_host_global_registrar_, __COUNTER__) {                                        \
    const_cast<void*>(static_cast<const volatile void*>(&(__VA_ARGS__))), sizeof(__VA_ARGS__), #__VA_ARGS__ \
  }

#endif  // __CUDACC__
