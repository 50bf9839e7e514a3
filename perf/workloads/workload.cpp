#include "perf/workloads/workload.h"

#include <fmt/format.h>

namespace rrto::perf {

void Workload::add_to_checksum(const void* data, size_t size) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < size; ++i) {
    checksum_ ^= bytes[i];
    checksum_ *= 1099511628211ull;  // FNV-1a prime
  }
}

bool KernelTimer::init(Driver& driver) {
  driver_ = &driver;
  return driver.create_event(start_) && driver.create_event(stop_);
}

bool KernelTimer::start(CUstream stream) { return driver_->record_event(start_, stream); }

bool KernelTimer::stop(CUstream stream) { return driver_->record_event(stop_, stream); }

bool KernelTimer::elapsed(uint64_t& ns) { return driver_->elapsed_ns(start_, stop_, ns); }

void fill_input(uint64_t iteration, uint32_t which, std::vector<float>& out) {
  // A splitmix64 stream seeded by (iteration, which); values in [0, 1).
  uint64_t state = iteration * 0x9e3779b97f4a7c15ull + which * 0xbf58476d1ce4e5b9ull + 1;
  for (float& v : out) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    v = static_cast<float>(z >> 40) / static_cast<float>(1ull << 24);
  }
}

const std::vector<std::string_view>& workload_names() {
  static const std::vector<std::string_view> names = {"launch", "htod", "dtoh", "cnn",
                                                      "resnet50", "bert", "detector", "sleep"};
  return names;
}

std::unique_ptr<Workload> make_workload(const WorkloadOptions& options, std::string& error) {
  const std::string& n = options.name;
  if (n == "launch") return make_launch_workload();
  if (n == "htod" || n == "dtoh") {
    if (options.size == 0) {
      error = fmt::format("{} needs --size BYTES (at least 1)", n);
      return nullptr;
    }
    return make_copy_workload(n == "htod", options.size);
  }
  if (n == "cnn") return make_cnn_workload();
  if (n == "resnet50" || n == "bert" || n == "detector") return make_model_workload(n, options.changing_scalar);
  if (n == "sleep") return make_sleep_workload(options.kernel_us);
  error = fmt::format("unknown workload '{}' (one of: {})", n, fmt::join(workload_names(), ", "));
  return nullptr;
}

}  // namespace rrto::perf
