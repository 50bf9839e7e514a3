// nvcc-built images for the module_image tests (see CMakeLists.txt).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rrto::test {

// The image's bytes; empty when the build had no nvcc or the file is missing.
std::vector<uint8_t> load_image(const std::string& name);

// Skips the current doctest case (with a message) when `bytes` is empty.
#define RRTO_REQUIRE_IMAGE(bytes, name)                                   \
  do {                                                                    \
    if ((bytes).empty()) {                                                \
      MESSAGE("image " << (name) << " not built (no nvcc?); skipping");   \
      return;                                                             \
    }                                                                     \
  } while (0)

}  // namespace rrto::test
