// What rrto-perf-workload times, one iteration at a time: a kernel launch and
// its synchronisation, a copy, or one inference of a model.
#pragma once

#include <cuda.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "perf/workloads/driver.h"

namespace rrto::perf {

// Each buffer a workload hands a kernel holds at least this many floats
// (PERF_SPAN in perf_kernels.cu).
inline constexpr size_t kPerfSpan = 4096;

class Workload {
 public:
  virtual ~Workload() = default;

  virtual bool setup(Driver& driver) = 0;
  // Host-side preparation of iteration `i` (its inputs); not timed.
  virtual void prepare(uint64_t i) {}
  // Iteration `i`. With `compute_ns`, also how long the device spent in the
  // iteration's kernels (CUDA events around them).
  virtual bool run(uint64_t i, uint64_t* compute_ns) = 0;

  // Bytes the program itself moves per iteration (inputs up, outputs down):
  // what a non-transparent server would have to move too.
  virtual uint64_t payload_up() const = 0;
  virtual uint64_t payload_down() const = 0;

  // A hash of every output read back since the last reset: equal across
  // modes when each mode computed the same results.
  uint64_t checksum() const { return checksum_; }
  void reset_checksum() { checksum_ = kChecksumStart; }

 protected:
  void add_to_checksum(const void* data, size_t size);

 private:
  static constexpr uint64_t kChecksumStart = 14695981039346656037ull;  // FNV-1a offset basis
  uint64_t checksum_ = kChecksumStart;
};

// Two events around the kernels of an iteration.
class KernelTimer {
 public:
  bool init(Driver& driver);
  bool start(CUstream stream);
  bool stop(CUstream stream);
  // After the iteration has been synchronised.
  bool elapsed(uint64_t& ns);

 private:
  Driver* driver_ = nullptr;
  CUevent start_ = nullptr, stop_ = nullptr;
};

// Deterministic inputs: the same values for the same iteration in every
// run and mode, different for every iteration.
void fill_input(uint64_t iteration, uint32_t which, std::vector<float>& out);

struct WorkloadOptions {
  std::string name;              // launch, htod, dtoh, cnn, resnet50, bert, detector, sleep
  size_t size = 0;               // htod/dtoh: bytes per copy
  bool changing_scalar = false;  // models: one argument changes every iteration
  uint32_t kernel_us = 1000;     // sleep: how long its one kernel takes
};

// The workload names, for usage texts.
const std::vector<std::string_view>& workload_names();

std::unique_ptr<Workload> make_workload(const WorkloadOptions& options, std::string& error);

// Factories, one per file.
std::unique_ptr<Workload> make_launch_workload();
std::unique_ptr<Workload> make_copy_workload(bool to_device, size_t size);
std::unique_ptr<Workload> make_cnn_workload();
std::unique_ptr<Workload> make_model_workload(std::string_view model, bool changing_scalar);
std::unique_ptr<Workload> make_sleep_workload(uint32_t kernel_us);

}  // namespace rrto::perf
