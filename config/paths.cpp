// Reading a config file and resolving the paths it names.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "config/internal.h"

namespace rrto::config::detail {

namespace fs = std::filesystem;

bool read_text_file(const std::string& path, std::string& out, std::string& why) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    why = "cannot read: is a directory";
    return false;
  }
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    why = std::string("cannot read: ") + std::strerror(errno);
    return false;
  }
  out.clear();
  char buffer[8192];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) out.append(buffer, n);
  bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) why = "cannot read: I/O error";
  return !failed;
}

std::string directory_of(const std::string& path) {
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  if (ec) absolute = path;
  return absolute.lexically_normal().parent_path().string();
}

std::string resolve_path(const std::string& path, const std::string& base_dir) {
  fs::path p(path);
  if (p.is_absolute()) return p.lexically_normal().string();
  std::error_code ec;
  fs::path base = base_dir.empty() ? fs::current_path(ec) : fs::absolute(base_dir, ec);
  if (ec) return p.lexically_normal().string();
  return (base / p).lexically_normal().string();
}

}  // namespace rrto::config::detail
