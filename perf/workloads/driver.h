// The CUDA side of rrto-perf-workload, through the driver API only: it is an
// ordinary CUDA program, run through RRTO's libcuda.so.1 (or a real driver).
// Failures become one line of text for the Reporter.
#pragma once

#include <cuda.h>

#include <cstddef>
#include <string>
#include <vector>

namespace rrto::perf {

class Driver {
 public:
  Driver() = default;
  ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  // cuInit, device 0, its primary context made current.
  bool init();
  // cuInit itself failed: with RRTO, the client refused its configuration
  // (e.g. a mode it does not implement).
  bool init_refused() const { return init_refused_; }

  bool load_module(const void* image, CUmodule& out);
  bool function(CUmodule module, const char* name, CUfunction& out);
  bool create_stream(CUstream& out);
  bool create_event(CUevent& out);
  // Freed with the Driver.
  bool alloc(CUdeviceptr& out, size_t bytes);

  // False (and error() set) unless r is CUDA_SUCCESS.
  bool check(CUresult r, const std::string& what);
  const std::string& error() const { return error_; }

 private:
  CUdevice device_ = 0;
  CUcontext context_ = nullptr;
  bool init_refused_ = false;
  std::vector<CUmodule> modules_;
  std::vector<CUstream> streams_;
  std::vector<CUevent> events_;
  std::vector<CUdeviceptr> allocations_;
  std::string error_;
};

}  // namespace rrto::perf
