// Loading host-kernel libraries (the `host` backend's kernels) and finding
// kernels in them by mangled name. The plug-in ABI is <rrto/host_kernel_abi.h>;
// how to write a library is README.md.
#pragma once

#include "common/status.h"
#include <rrto/host_kernel_abi.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rrto {

struct HostKernelParam {
  uint32_t offset = 0;
  uint32_t size = 0;
  friend bool operator==(const HostKernelParam&, const HostKernelParam&) = default;
};

// A registered __constant__/__device__ variable (RRTO_HOST_GLOBAL).
struct HostGlobal {
  std::string name;  // the exported name (nvcc's), else the registered expression
  void* address = nullptr;  // in the process that loaded the library
  uint64_t size = 0;
};

struct HostDim3 {
  uint32_t x = 1, y = 1, z = 1;
};

class HostKernelLibrary;

// One kernel's CPU version, as registered with RRTO_HOST_KERNEL.
class HostKernel {
 public:
  // The mangled name it is exported under (what nvcc names the kernel).
  const std::string& name() const { return name_; }
  // The expression given to RRTO_HOST_KERNEL(...), e.g. "conv2d".
  const std::string& source_name() const { return source_name_; }
  const std::vector<HostKernelParam>& params() const { return params_; }
  // The indices of the parameters that are pointers, ascending.
  const std::vector<uint32_t>& pointer_params() const { return pointer_params_; }
  // End of the last parameter: the least size of a packed parameter buffer.
  uint32_t param_buffer_size() const { return param_buffer_size_; }
  const HostKernelLibrary& library() const { return *library_; }

  // Compares a parameter layout learned elsewhere (e.g. from the client's
  // module image) with this kernel's. On a mismatch, says where.
  Status check_params(const std::vector<HostKernelParam>& expected, std::string* error = nullptr) const;

  // What launch() checks before it runs anything: the grid and block within
  // CUDA's limits; a packed parameter buffer that holds every parameter.
  Status check_geometry(HostDim3 grid, HostDim3 block, std::string* error = nullptr) const;
  Status check_buffer(const uint8_t* buffer, size_t size, std::string* error = nullptr) const;

  // Runs the kernel over grid x block on the calling thread. args[i] points at
  // parameter i (cuLaunchKernel's kernelParams). A failure says why in *error.
  Status launch(HostDim3 grid, HostDim3 block, void* const* args, std::string* error = nullptr) const;
  // The packed form (cuLaunchKernel's CU_LAUNCH_PARAM_BUFFER_POINTER/SIZE):
  // parameter i at buffer + params()[i].offset; size at least param_buffer_size().
  Status launch(HostDim3 grid, HostDim3 block, const uint8_t* buffer, size_t size,
                std::string* error = nullptr) const;

 private:
  friend class HostKernelLibrary;
  HostKernel() = default;
  const HostKernelLibrary* library_ = nullptr;
  const void* function_ = nullptr;
  rrto_host_kernel_launch_fn launch_ = nullptr;
  std::string name_;
  std::string source_name_;
  std::vector<HostKernelParam> params_;
  std::vector<uint32_t> pointer_params_;
  uint32_t param_buffer_size_ = 0;
};

// One loaded host-kernel library (dlopen'ed RTLD_NOW | RTLD_LOCAL; closed on
// destruction, which must not happen while one of its kernels runs).
class HostKernelLibrary {
 public:
  // Loads `path`, finds rrto_host_kernels(), checks the ABI version and the
  // table. Errors: IoError (dlopen failed), NotFound (no entry point: not a
  // host-kernel library), NotSupported (other ABI version), InvalidArgument
  // (a malformed table); *error says which and why.
  static Status open(const std::string& path, std::unique_ptr<HostKernelLibrary>& out,
                     std::string& error);

  ~HostKernelLibrary();
  HostKernelLibrary(const HostKernelLibrary&) = delete;
  HostKernelLibrary& operator=(const HostKernelLibrary&) = delete;

  // Looks `mangled_name` up with dlsym and matches the address against the
  // table. NotFound when the library does not export the name, or exports it
  // without registering it (RRTO_HOST_KERNEL missing); *error says which.
  Status lookup(std::string_view mangled_name, const HostKernel*& out, std::string& error) const;
  // lookup() without the reason: nullptr when not found.
  const HostKernel* find(std::string_view mangled_name) const;

  // A registered global (RRTO_HOST_GLOBAL) by name; NotFound for any other
  // symbol, exported or not.
  Status find_global(std::string_view name, const HostGlobal*& out, std::string& error) const;
  // Every registered global, in registration order.
  const std::vector<HostGlobal>& globals() const { return globals_; }

  const std::string& path() const { return path_; }
  // Every registered kernel, in registration order.
  const std::vector<std::unique_ptr<HostKernel>>& kernels() const { return kernels_; }

 private:
  friend class HostKernelRegistry;
  HostKernelLibrary() = default;
  // Adds entry `index` of the library's table, checked; on a malformed entry
  // InvalidArgument and `why`.
  Status add_kernel(const rrto_host_kernel_entry& entry, uint32_t index, std::string& why);
  Status add_global(const rrto_host_global& global, uint32_t index, std::string& why);
  // lookup(), also telling whether the library exports the name at all.
  Status lookup(std::string_view mangled_name, const HostKernel*& out, std::string& error, bool& exported) const;
  void* handle_ = nullptr;
  std::string path_;
  std::vector<std::unique_ptr<HostKernel>> kernels_;
  std::unordered_map<const void*, const HostKernel*> by_address_;
  std::vector<HostGlobal> globals_;
};

// Several libraries, searched in the order they were added (config
// `host_kernel_libraries`); the first that has a kernel wins.
class HostKernelRegistry {
 public:
  Status add(const std::string& path, std::string& error);
  void add(std::unique_ptr<HostKernelLibrary> library);

  // NotFound when no library has it; *error names the kernel and says, for a
  // library that exports the name without registering it, that too.
  Status lookup(std::string_view mangled_name, const HostKernel*& out, std::string& error) const;
  const HostKernel* find(std::string_view mangled_name) const;

  // Where a kernel or global is, by position: the same in every process that
  // loads the same libraries in the same order.
  struct Position {
    uint32_t library = 0;
    uint32_t index = 0;  // in the library's kernels() or globals()
  };
  // The first library's registered global of that name; NotFound otherwise.
  Status find_global(std::string_view name, Position& out) const;
  bool position_of(const HostKernel& kernel, Position& out) const;
  const HostKernel* kernel_at(Position position) const;
  const HostGlobal* global_at(Position position) const;

  const std::vector<std::unique_ptr<HostKernelLibrary>>& libraries() const { return libraries_; }
  bool empty() const { return libraries_.empty(); }

 private:
  std::vector<std::unique_ptr<HostKernelLibrary>> libraries_;
};

}  // namespace rrto
