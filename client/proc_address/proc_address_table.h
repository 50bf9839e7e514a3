// cuGetProcAddress's question, answered from the toolkit's typedefs: which
// exported symbol does a caller mean by (name, CUDA version, per-thread
// default stream)? The same name means different functions at different
// versions (cuCtxCreate@3020 is the 3-argument cuCtxCreate_v2), and the
// per-thread flag selects the _ptds/_ptsz variant where one exists.
#pragma once

#include <string_view>

namespace rrto::client {

enum class ProcStatus {
  Found,                 // `symbol` names the variant
  VersionNotSufficient,  // the name exists, but only in later versions
  NotFound,              // no such entry point
};

struct ProcVariant {
  const char* name;    // as the caller asks for it, e.g. "cuMemcpyHtoD"
  int version;         // the CUDA version that introduced this signature
  bool per_thread;     // a _ptds/_ptsz variant
  const char* symbol;  // the exported symbol, e.g. "cuMemcpyHtoD_v2_ptds"
};

struct ProcLookup {
  ProcStatus status = ProcStatus::NotFound;
  const char* symbol = nullptr;
};

// The newest signature of `name` introduced at or before `cuda_version`; with
// `per_thread`, its per-thread variant if it has one.
ProcLookup find_proc_variant(std::string_view name, int cuda_version, bool per_thread);

}  // namespace rrto::client
