#include "server/hostkernel/loader.h"

#include "common/demangle.h"
#include "common/log.h"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>

namespace rrto {

namespace {

constexpr const char* kLog = "hostkernel";
// CUDA's limit on the size of a kernel's parameters (Volta and later, 12.1+).
constexpr uint32_t kMaxParamBytes = 32764;

// "_Z6conv2dPKf..." -> "_Z6conv2dPKf... (conv2d(float const*, ...))" for messages.
std::string describe(std::string_view mangled) {
  const std::string readable = demangled(mangled);
  return readable == mangled ? readable : fmt::format("{} ({})", mangled, readable);
}

std::string dl_error() {
  const char* e = dlerror();
  return e != nullptr ? e : "unknown dynamic loader error";
}

// The library's kernel table, checked against this server's ABI.
Status read_table(void* handle, const rrto_host_kernel_table*& table, std::string& why) {
  auto fail = [&](Status s, std::string reason) {
    why = std::move(reason);
    return s;
  };
  dlerror();
  void* entry_point = dlsym(handle, RRTO_HOST_KERNEL_ENTRY_POINT);
  if (entry_point == nullptr)
    return fail(Status::NotFound, "it does not export " RRTO_HOST_KERNEL_ENTRY_POINT
                                  "(), so it is not a host-kernel library (build its kernels with "
                                  "<rrto/host_kernel.h> and register them with RRTO_HOST_KERNEL)");
  table = reinterpret_cast<rrto_host_kernels_fn>(entry_point)();
  if (table == nullptr) return fail(Status::InvalidArgument, RRTO_HOST_KERNEL_ENTRY_POINT "() returned no table");
  if (table->abi_version != RRTO_HOST_KERNEL_ABI_VERSION)
    return fail(Status::NotSupported, fmt::format("built for host-kernel ABI version {}, this server supports version {}",
                                                  table->abi_version, RRTO_HOST_KERNEL_ABI_VERSION));
  if (table->entry_size != sizeof(rrto_host_kernel_entry))
    return fail(Status::InvalidArgument, fmt::format("table entries of {} bytes, ABI version {} has {}",
                                                     table->entry_size, RRTO_HOST_KERNEL_ABI_VERSION,
                                                     sizeof(rrto_host_kernel_entry)));
  if (table->count > 0 && table->entries == nullptr)
    return fail(Status::InvalidArgument, fmt::format("table of {} kernels without entries", table->count));
  if (table->global_count > 0 && table->globals == nullptr)
    return fail(Status::InvalidArgument, fmt::format("table of {} globals without entries", table->global_count));
  return Status::Ok;
}

}  // namespace

// ---- HostKernel ------------------------------------------------------------------------

Status HostKernel::check_params(const std::vector<HostKernelParam>& expected, std::string* error) const {
  auto fail = [&](std::string why) {
    if (error != nullptr) *error = "kernel " + describe(name_) + ": " + why;
    return Status::InvalidArgument;
  };
  if (expected.size() != params_.size())
    return fail(fmt::format("expected {} parameters, the host version has {}", expected.size(), params_.size()));
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!(expected[i] == params_[i]))
      return fail(fmt::format("parameter {}: expected offset {} size {}, the host version has offset {} size {}",
                              i, expected[i].offset, expected[i].size, params_[i].offset, params_[i].size));
  }
  return Status::Ok;
}

Status HostKernel::check_geometry(HostDim3 grid, HostDim3 block, std::string* error) const {
  auto fail = [&](Status s, std::string why) {
    if (error != nullptr) *error = "launch of kernel " + describe(name_.empty() ? source_name_ : name_) + ": " + why;
    return s;
  };
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || block.x == 0 || block.y == 0 || block.z == 0)
    return fail(Status::InvalidArgument,
                fmt::format("zero dimension in grid ({},{},{}) or block ({},{},{})", grid.x, grid.y, grid.z,
                            block.x, block.y, block.z));
  if (grid.x > 0x7fffffffu || grid.y > 65535u || grid.z > 65535u)
    return fail(Status::InvalidArgument, fmt::format("grid ({},{},{}) exceeds the limits (2^31-1, 65535, 65535)",
                                                     grid.x, grid.y, grid.z));
  if (block.x > 1024u || block.y > 1024u || block.z > 64u ||
      uint64_t{block.x} * block.y * block.z > 1024u)
    return fail(Status::InvalidArgument,
                fmt::format("block ({},{},{}) exceeds the limits (1024, 1024, 64; 1024 threads)", block.x,
                            block.y, block.z));
  return Status::Ok;
}

Status HostKernel::launch(HostDim3 grid, HostDim3 block, void* const* args, std::string* error) const {
  auto fail = [&](Status s, std::string why) {
    if (error != nullptr) *error = "launch of kernel " + describe(name_.empty() ? source_name_ : name_) + ": " + why;
    return s;
  };
  if (Status s = check_geometry(grid, block, error); !ok(s)) return s;
  if (!params_.empty()) {
    if (args == nullptr) return fail(Status::InvalidArgument, "no kernel arguments given");
    for (size_t i = 0; i < params_.size(); ++i)
      if (args[i] == nullptr) return fail(Status::InvalidArgument, fmt::format("argument {} is a null pointer", i));
  }
  rrto_host_launch_config config{};
  config.grid_dim[0] = grid.x;
  config.grid_dim[1] = grid.y;
  config.grid_dim[2] = grid.z;
  config.block_dim[0] = block.x;
  config.block_dim[1] = block.y;
  config.block_dim[2] = block.z;
  switch (const int32_t rc = launch_(&config, args)) {
    case RRTO_HOST_KERNEL_SUCCESS: return Status::Ok;
    case RRTO_HOST_KERNEL_INVALID_VALUE: return fail(Status::InvalidArgument, "the library rejected the launch");
    case RRTO_HOST_KERNEL_TRAP: return fail(Status::InternalError, "the kernel called __trap()");
    case RRTO_HOST_KERNEL_EXCEPTION: return fail(Status::InternalError, "the kernel threw a C++ exception");
    default: return fail(Status::InternalError, fmt::format("the library returned unknown code {}", rc));
  }
}

Status HostKernel::check_buffer(const uint8_t* buffer, size_t size, std::string* error) const {
  if (size < param_buffer_size_ || (buffer == nullptr && !params_.empty())) {
    if (error != nullptr)
      *error = fmt::format("launch of kernel {}: parameter buffer of {} bytes, the kernel's parameters take {}",
                           describe(name_), buffer == nullptr ? 0 : size, param_buffer_size_);
    return Status::InvalidArgument;
  }
  return Status::Ok;
}

Status HostKernel::launch(HostDim3 grid, HostDim3 block, const uint8_t* buffer, size_t size,
                          std::string* error) const {
  if (Status s = check_buffer(buffer, size, error); !ok(s)) return s;
  std::vector<void*> args(params_.size());
  for (size_t i = 0; i < params_.size(); ++i) args[i] = const_cast<uint8_t*>(buffer + params_[i].offset);
  return launch(grid, block, args.data(), error);
}

// ---- HostKernelLibrary -----------------------------------------------------------------

HostKernelLibrary::~HostKernelLibrary() {
  if (handle_ != nullptr) dlclose(handle_);
}

Status HostKernelLibrary::open(const std::string& path, std::unique_ptr<HostKernelLibrary>& out,
                               std::string& error) {
  out.reset();
  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    error = "cannot load host-kernel library " + path + ": " + dl_error();
    return Status::IoError;
  }
  std::unique_ptr<HostKernelLibrary> lib(new HostKernelLibrary());
  lib->handle_ = handle;  // closed by lib's destructor on any error below
  lib->path_ = path;

  std::string why;
  const rrto_host_kernel_table* table = nullptr;
  Status s = read_table(handle, table, why);
  for (uint32_t k = 0; ok(s) && k < table->count; ++k) s = lib->add_kernel(table->entries[k], k, why);
  for (uint32_t g = 0; ok(s) && g < table->global_count; ++g) s = lib->add_global(table->globals[g], g, why);
  if (!ok(s)) {
    error = "host-kernel library " + path + ": " + why;
    return s;
  }
  RRTO_INFO(kLog, "loaded host-kernel library {} ({} kernels)", path, lib->kernels_.size());
  out = std::move(lib);
  return Status::Ok;
}

Status HostKernelLibrary::add_kernel(const rrto_host_kernel_entry& e, uint32_t index, std::string& why) {
  const std::string source = e.source_name != nullptr ? e.source_name : fmt::format("#{}", index);
  auto fail = [&](std::string reason) {
    why = std::move(reason);
    return Status::InvalidArgument;
  };
  if (e.function == nullptr || e.launch == nullptr)
    return fail(fmt::format("kernel {} has no function or no launch trampoline", source));
  if (e.param_count > 0 && e.params == nullptr)
    return fail(fmt::format("kernel {} has {} parameters but no layout", source, e.param_count));
  if (e.param_buffer_size > kMaxParamBytes)
    return fail(fmt::format("kernel {}: parameters of {} bytes exceed {}", source, e.param_buffer_size,
                            kMaxParamBytes));
  std::unique_ptr<HostKernel> kernel(new HostKernel());
  kernel->library_ = this;
  kernel->function_ = e.function;
  kernel->launch_ = e.launch;
  kernel->source_name_ = source;
  kernel->param_buffer_size_ = e.param_buffer_size;
  uint32_t end = 0;
  for (uint32_t i = 0; i < e.param_count; ++i) {
    const rrto_host_kernel_param& p = e.params[i];
    if (p.size == 0 || p.offset < end || uint64_t{p.offset} + p.size > e.param_buffer_size)
      return fail(fmt::format("kernel {}: parameter {} (offset {}, size {}) overlaps or lies outside {} bytes",
                              source, i, p.offset, p.size, e.param_buffer_size));
    end = p.offset + p.size;
    kernel->params_.push_back(HostKernelParam{p.offset, p.size});
    if (p.flags & RRTO_HOST_KERNEL_PARAM_POINTER) {
      if (p.size != sizeof(void*))
        return fail(fmt::format("kernel {}: pointer parameter {} of {} bytes", source, i, p.size));
      kernel->pointer_params_.push_back(i);
    }
  }
  // The name the kernel is exported under: find() reaches it by that name.
  Dl_info info{};
  if (dladdr(e.function, &info) != 0 && info.dli_saddr == e.function && info.dli_sname != nullptr) {
    kernel->name_ = info.dli_sname;
  } else {
    RRTO_WARN(kLog, "{}: kernel {} is registered but not exported (hidden visibility?), it cannot be found by name",
              path_, source);
  }
  if (by_address_.count(e.function) != 0) return Status::Ok;  // registered twice
  by_address_.emplace(e.function, kernel.get());
  kernels_.push_back(std::move(kernel));
  return Status::Ok;
}

Status HostKernelLibrary::lookup(std::string_view mangled_name, const HostKernel*& out, std::string& error) const {
  bool exported = false;
  return lookup(mangled_name, out, error, exported);
}

Status HostKernelLibrary::lookup(std::string_view mangled_name, const HostKernel*& out, std::string& error,
                                 bool& exported) const {
  out = nullptr;
  const std::string name(mangled_name);
  dlerror();
  void* address = dlsym(handle_, name.c_str());
  exported = address != nullptr;
  if (address == nullptr) {
    error = "kernel " + describe(name) + " has no host version in " + path_;
    return Status::NotFound;
  }
  auto it = by_address_.find(address);
  if (it == by_address_.end()) {
    error = "kernel " + describe(name) + " is exported by " + path_ +
            " but not registered (RRTO_HOST_KERNEL missing for it), so it cannot be launched";
    return Status::NotFound;
  }
  out = it->second;
  return Status::Ok;
}

const HostKernel* HostKernelLibrary::find(std::string_view mangled_name) const {
  const HostKernel* kernel = nullptr;
  std::string ignored;
  return ok(lookup(mangled_name, kernel, ignored)) ? kernel : nullptr;
}

Status HostKernelLibrary::add_global(const rrto_host_global& g, uint32_t index, std::string& why) {
  const std::string source = g.source_name != nullptr ? g.source_name : fmt::format("#{}", index);
  if (g.address == nullptr || g.size == 0) {
    why = fmt::format("global {} has no address or no size", source);
    return Status::InvalidArgument;
  }
  HostGlobal global{.name = source, .address = g.address, .size = g.size};
  // nvcc's name for it is the exported one (mangled inside a namespace).
  Dl_info info{};
  if (dladdr(g.address, &info) != 0 && info.dli_saddr == g.address && info.dli_sname != nullptr)
    global.name = info.dli_sname;
  for (const HostGlobal& known : globals_)
    if (known.address == g.address) return Status::Ok;  // registered twice
  globals_.push_back(std::move(global));
  return Status::Ok;
}

Status HostKernelLibrary::find_global(std::string_view name, const HostGlobal*& out, std::string& error) const {
  out = nullptr;
  for (const HostGlobal& global : globals_) {
    if (global.name == name) {
      out = &global;
      return Status::Ok;
    }
  }
  error = "global " + std::string(name) + " is not registered (RRTO_HOST_GLOBAL) in " + path_;
  return Status::NotFound;
}

// ---- HostKernelRegistry ----------------------------------------------------------------

Status HostKernelRegistry::add(const std::string& path, std::string& error) {
  std::unique_ptr<HostKernelLibrary> library;
  Status s = HostKernelLibrary::open(path, library, error);
  if (!ok(s)) return s;
  libraries_.push_back(std::move(library));
  return Status::Ok;
}

void HostKernelRegistry::add(std::unique_ptr<HostKernelLibrary> library) {
  if (library) libraries_.push_back(std::move(library));
}

Status HostKernelRegistry::lookup(std::string_view mangled_name, const HostKernel*& out, std::string& error) const {
  out = nullptr;
  std::string unregistered;  // libraries that export the name without registering it
  for (const auto& library : libraries_) {
    std::string why;
    bool exported = false;
    if (ok(library->lookup(mangled_name, out, why, exported))) return Status::Ok;
    if (exported) unregistered += "; " + why;
  }
  std::string searched;
  for (const auto& library : libraries_) searched += (searched.empty() ? "" : ", ") + library->path();
  error = "kernel " + describe(mangled_name) + " has no host version in the host-kernel libraries (" +
          (searched.empty() ? std::string("none configured") : searched) + ")" + unregistered;
  return Status::NotFound;
}

const HostKernel* HostKernelRegistry::find(std::string_view mangled_name) const {
  const HostKernel* kernel = nullptr;
  std::string ignored;
  return ok(lookup(mangled_name, kernel, ignored)) ? kernel : nullptr;
}

Status HostKernelRegistry::find_global(std::string_view name, Position& out) const {
  for (uint32_t l = 0; l < libraries_.size(); ++l) {
    const std::vector<HostGlobal>& globals = libraries_[l]->globals();
    for (uint32_t g = 0; g < globals.size(); ++g) {
      if (globals[g].name != name) continue;
      out = Position{l, g};
      return Status::Ok;
    }
  }
  return Status::NotFound;
}

bool HostKernelRegistry::position_of(const HostKernel& kernel, Position& out) const {
  for (uint32_t l = 0; l < libraries_.size(); ++l) {
    if (libraries_[l].get() != &kernel.library()) continue;
    const auto& kernels = libraries_[l]->kernels();
    for (uint32_t k = 0; k < kernels.size(); ++k) {
      if (kernels[k].get() != &kernel) continue;
      out = Position{l, k};
      return true;
    }
  }
  return false;
}

const HostKernel* HostKernelRegistry::kernel_at(Position p) const {
  if (p.library >= libraries_.size() || p.index >= libraries_[p.library]->kernels().size()) return nullptr;
  return libraries_[p.library]->kernels()[p.index].get();
}

const HostGlobal* HostKernelRegistry::global_at(Position p) const {
  if (p.library >= libraries_.size() || p.index >= libraries_[p.library]->globals().size()) return nullptr;
  return &libraries_[p.library]->globals()[p.index];
}

}  // namespace rrto
