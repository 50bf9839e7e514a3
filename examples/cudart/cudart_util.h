// Error reporting for the runtime-API (cudart) examples. Header-only.
#pragma once

#include <cuda_runtime.h>

#include <cstdio>

#include "examples/common/example_util.h"

namespace examples {

// Reports a failed runtime call as "<program>: <call> failed: cudaErrorX (text)".
inline bool check_rt(cudaError_t e, const char* call) {
  if (e == cudaSuccess) return true;
  std::fprintf(stderr, "%s: %s failed: %s (%d: %s)\n", program, call, cudaGetErrorName(e), static_cast<int>(e),
               cudaGetErrorString(e));
  return false;
}

}  // namespace examples
