#include "perf/perftest/paths.h"

#include <filesystem>
#include <system_error>

namespace rrto::perf {

std::string bin_dir() {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : self.parent_path().string();
}

std::string lib_dir() { return (std::filesystem::path(bin_dir()).parent_path() / "lib").string(); }

std::string rrto_server_program() { return bin_dir() + "/rrto-server"; }
std::string workload_program() { return bin_dir() + "/rrto-perf-workload"; }
std::string client_library_dir() { return lib_dir(); }

}  // namespace rrto::perf
