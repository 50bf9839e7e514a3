// The names and descriptions of CUresult codes, as the driver gives them
// (generated from cuda.h).
#pragma once

#include <cuda.h>

namespace rrto::client {

// nullptr for a code cuda.h does not define.
const char* cuda_error_name(CUresult r);
const char* cuda_error_text(CUresult r);

}  // namespace rrto::client
