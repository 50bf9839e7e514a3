// What a workload asks of the device, one operator at a time. Two drivers:
//
//   make_cuda_driver()   the CUDA driver API: rrto-perf-workload is then an
//                        ordinary CUDA program, run through RRTO's libcuda.so.1
//                        (rpc, async, replay) or a real driver;
//   make_ideal_driver()  the non-transparent baseline (RRTO_MODE=ideal): the
//                        protocol spoken directly, one inference's operators
//                        registered once, then one message per sync point.
//
// Handles are the CUDA types, opaque to the workloads. Failures become one
// line of text for the Reporter.
#pragma once

#include <cuda.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace rrto::perf {

class Driver {
 public:
  virtual ~Driver() = default;

  // Connected, device 0's context current.
  virtual bool init() = 0;
  // init() failed on the configuration itself: with RRTO, the client refused
  // it (e.g. a mode it does not implement).
  bool init_refused() const { return init_refused_; }

  virtual bool load_module(const void* image, CUmodule& out) = 0;
  virtual bool function(CUmodule module, const char* name, CUfunction& out) = 0;
  virtual bool create_stream(CUstream& out) = 0;
  virtual bool create_event(CUevent& out) = 0;
  // Freed with the Driver.
  virtual bool alloc(CUdeviceptr& out, size_t bytes) = 0;

  // Operators. `async`: the stream-ordered variant (cuMemcpy*Async), else the
  // synchronous copy on the legacy default stream.
  virtual bool copy_to_device(CUdeviceptr dst, const void* src, size_t bytes, CUstream stream, bool async) = 0;
  virtual bool copy_to_host(void* dst, CUdeviceptr src, size_t bytes, CUstream stream, bool async) = 0;
  virtual bool memset8(CUdeviceptr dst, uint8_t value, size_t bytes) = 0;
  // 1-D geometry: every workload launches grid × 1 × 1 blocks of block × 1 × 1.
  virtual bool launch(CUfunction f, unsigned grid, unsigned block, unsigned shared_mem, CUstream stream,
                      void** params, const std::string& what) = 0;
  virtual bool synchronize(CUstream stream) = 0;
  virtual bool record_event(CUevent event, CUstream stream) = 0;
  // Waits for `stop`.
  virtual bool elapsed_ns(CUevent start, CUevent stop, uint64_t& ns) = 0;

  // Around each iteration of the workload (set-up is outside any).
  virtual bool begin_iteration() { return true; }
  virtual bool end_iteration() { return true; }

  // The RRTO_STATS line the program prints itself (the client library prints
  // its own): empty unless the driver speaks to a server directly.
  virtual std::string stats_line() const { return {}; }

  const std::string& error() const { return error_; }
  // Always false: sets error().
  bool fail(std::string why) {
    error_ = std::move(why);
    return false;
  }

 protected:
  bool init_refused_ = false;

 private:
  std::string error_;
};

std::unique_ptr<Driver> make_cuda_driver();
std::unique_ptr<Driver> make_ideal_driver();

}  // namespace rrto::perf
