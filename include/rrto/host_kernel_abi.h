/* The host-kernel plug-in ABI: the C structures a host-kernel library hands to
 * rrto-server. Plain C (usable from C and C++), no std:: types, versioned.
 *
 * A host-kernel library is a shared object that
 *   - exports each kernel's CPU version under the kernel's mangled name (the
 *     name nvcc gives the __global__ function), and
 *   - exports one C entry point, rrto_host_kernels(), returning the table below.
 * rrto/host_kernel.h generates both from kernel source written for CUDA; see
 * server/hostkernel/README.md.
 *
 * Layout on LP64 (x86-64, aarch64), version 2:
 *   rrto_host_kernel_param         16 bytes  {u32 offset, u32 size, u32 flags, u32 reserved}
 *   rrto_host_launch_config        32 bytes  {u32 grid_dim[3], u32 block_dim[3],
 *                                             u32 shared_mem_bytes, u32 reserved}
 *   rrto_host_kernel_entry         40 bytes  {function, launch, source_name,
 *                                             u32 param_count, u32 param_buffer_size,
 *                                             params}
 *   rrto_host_global               24 bytes  {address, u64 size, source_name}
 *   rrto_host_kernel_table         32 bytes  {u32 abi_version, u32 entry_size,
 *                                             u32 count, u32 global_count,
 *                                             entries, globals}
 *
 * Version 2 added the parameters' flags (which are pointers, so that the
 * server can check them) and the table of globals (__constant__/__device__
 * variables, the only data a client may reach by name).
 */
#ifndef RRTO_HOST_KERNEL_ABI_H
#define RRTO_HOST_KERNEL_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any incompatible change of the structures below. */
#define RRTO_HOST_KERNEL_ABI_VERSION 2u

/* The name of the entry point, for dlsym(). */
#define RRTO_HOST_KERNEL_ENTRY_POINT "rrto_host_kernels"

/* Return codes of a launch trampoline. */
#define RRTO_HOST_KERNEL_SUCCESS 0
#define RRTO_HOST_KERNEL_INVALID_VALUE 1 /* zero or missing dimensions, null argument pointers */
#define RRTO_HOST_KERNEL_TRAP 2          /* the kernel called __trap() */
#define RRTO_HOST_KERNEL_EXCEPTION 3     /* the kernel let a C++ exception escape */

/* rrto_host_kernel_param.flags: the parameter is a pointer (the server checks
 * that it is null or points into the session's memory). */
#define RRTO_HOST_KERNEL_PARAM_POINTER 1u

/* One kernel parameter: where it sits in the packed parameter buffer (the
 * cuLaunchKernel `extra` CU_LAUNCH_PARAM_BUFFER_POINTER form), its size and
 * what it is. Offsets follow C++ alignment, which for ordinary types is
 * CUDA's layout. */
typedef struct rrto_host_kernel_param {
  uint32_t offset;
  uint32_t size;
  uint32_t flags;    /* RRTO_HOST_KERNEL_PARAM_* */
  uint32_t reserved; /* 0 */
} rrto_host_kernel_param;

/* Launch geometry. x is the fastest-varying dimension. */
typedef struct rrto_host_launch_config {
  uint32_t grid_dim[3];
  uint32_t block_dim[3];
  uint32_t shared_mem_bytes; /* dynamic shared memory asked for; host kernels get none */
  uint32_t reserved;         /* 0 */
} rrto_host_launch_config;

/* Runs the kernel over grid x block. args[i] points at the value of parameter i
 * (exactly as cuLaunchKernel's kernelParams); the pointers need no particular
 * alignment. Returns one of the RRTO_HOST_KERNEL_* codes; never throws. */
typedef int32_t (*rrto_host_kernel_launch_fn)(const rrto_host_launch_config* config,
                                              void* const* args);

typedef struct rrto_host_kernel_entry {
  /* The kernel function's address: what dlsym(handle, mangled name) returns. */
  const void* function;
  rrto_host_kernel_launch_fn launch;
  /* The expression given to RRTO_HOST_KERNEL(...), e.g. "conv2d" (informational). */
  const char* source_name;
  uint32_t param_count;
  /* End of the last parameter (offset + size), 0 without parameters. */
  uint32_t param_buffer_size;
  /* param_count entries, NULL when param_count is 0. */
  const rrto_host_kernel_param* params;
} rrto_host_kernel_entry;

/* One __constant__ or __device__ variable a client may name
 * (cuModuleGetGlobal). Each session gets its own copy, starting from the
 * value the library was loaded with. */
typedef struct rrto_host_global {
  /* The variable's address: what dlsym(handle, its name) returns when it is
   * exported; its name is the exported one, else source_name. */
  void* address;
  uint64_t size;
  /* The expression given to RRTO_HOST_GLOBAL(...), e.g. "coefficients". */
  const char* source_name;
} rrto_host_global;

typedef struct rrto_host_kernel_table {
  uint32_t abi_version; /* RRTO_HOST_KERNEL_ABI_VERSION */
  uint32_t entry_size;  /* sizeof(rrto_host_kernel_entry) */
  uint32_t count;
  uint32_t global_count;
  const rrto_host_kernel_entry* entries;
  /* global_count entries, NULL when global_count is 0. */
  const rrto_host_global* globals;
} rrto_host_kernel_table;

/* The entry point's type:
 *   const rrto_host_kernel_table* rrto_host_kernels(void);
 * The table and everything it points at live as long as the library is loaded. */
typedef const rrto_host_kernel_table* (*rrto_host_kernels_fn)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* RRTO_HOST_KERNEL_ABI_H */
