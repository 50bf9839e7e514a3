#include <fmt/format.h>

#include "config/config.h"

namespace rrto::config {

std::string ConfigError::text() const {
  if (field.empty()) return fmt::format("{}: {}", file, message);
  const char* what = file == "environment" ? "variable" : "field";
  return fmt::format("{}: {} '{}': {}", file, what, field, message);
}

}  // namespace rrto::config
