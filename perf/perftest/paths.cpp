#include "perf/perftest/paths.h"

#include <filesystem>
#include <system_error>

namespace rrto::perf {

namespace {

namespace fs = std::filesystem;

// The folder above bin/: the build tree or the install prefix.
fs::path prefix() { return fs::path(bin_dir()).parent_path(); }

// Installed, the client library has a folder of its own (RRTO_INSTALL_CLIENT_DIR,
// relative to the prefix); in the build tree it is in lib/ with the rest.
bool installed() {
  std::error_code ec;
  return fs::exists(prefix() / RRTO_INSTALL_CLIENT_DIR / "libcuda.so.1", ec);
}

}  // namespace

std::string bin_dir() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : self.parent_path().string();
}

std::string rrto_server_program() { return bin_dir() + "/rrto-server"; }
std::string workload_program() { return bin_dir() + "/rrto-perf-workload"; }

std::string client_library_dir() {
  return (installed() ? prefix() / RRTO_INSTALL_CLIENT_DIR : prefix() / "lib").string();
}

std::string host_kernel_dir() {
  return (installed() ? prefix() / RRTO_INSTALL_KERNELS_DIR : prefix() / "lib").string();
}

}  // namespace rrto::perf
