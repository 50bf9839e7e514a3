// The smallest iterations: one empty-ish kernel launch and its
// synchronisation (launch_lat), one synchronous copy (memcpy_bw).
#include <cstring>

#include "perf/workloads/workload.h"

extern "C" const unsigned char rrto_perf_fatbin[];

namespace rrto::perf {
namespace {

class LaunchWorkload final : public Workload {
 public:
  bool setup(Driver& d) override {
    driver_ = &d;
    CUmodule module = nullptr;
    return d.load_module(rrto_perf_fatbin, module) && d.function(module, "rrto_perf_noop", noop_) &&
           d.create_stream(stream_) && d.alloc(data_, kPerfSpan * sizeof(float)) &&
           d.memset8(data_, 0, kPerfSpan * sizeof(float));
  }

  bool run(uint64_t, uint64_t* compute_ns) override {
    int n = 1;
    void* params[] = {&data_, &n};
    return driver_->launch(noop_, 1, 1, 0, stream_, params, "rrto_perf_noop") && driver_->synchronize(stream_);
  }

  uint64_t payload_up() const override { return 0; }
  uint64_t payload_down() const override { return 0; }

 private:
  Driver* driver_ = nullptr;
  CUfunction noop_ = nullptr;
  CUstream stream_ = nullptr;
  CUdeviceptr data_ = 0;
};

// Synchronous copies of pageable host memory, as most programs do them.
class CopyWorkload final : public Workload {
 public:
  CopyWorkload(bool to_device, size_t size) : to_device_(to_device), size_(size), host_(size) {}

  bool setup(Driver& d) override {
    driver_ = &d;
    for (size_t i = 0; i < host_.size(); ++i) host_[i] = static_cast<uint8_t>(i * 131 + 7);
    return d.alloc(device_, size_) && d.copy_to_device(device_, host_.data(), size_, nullptr, false);
  }

  bool run(uint64_t, uint64_t*) override {
    if (to_device_) return driver_->copy_to_device(device_, host_.data(), size_, nullptr, false);
    return driver_->copy_to_host(host_.data(), device_, size_, nullptr, false);
  }

  uint64_t payload_up() const override { return to_device_ ? size_ : 0; }
  uint64_t payload_down() const override { return to_device_ ? 0 : size_; }

 private:
  bool to_device_;
  size_t size_;
  std::vector<uint8_t> host_;
  Driver* driver_ = nullptr;
  CUdeviceptr device_ = 0;
};

}  // namespace

std::unique_ptr<Workload> make_launch_workload() { return std::make_unique<LaunchWorkload>(); }

std::unique_ptr<Workload> make_copy_workload(bool to_device, size_t size) {
  return std::make_unique<CopyWorkload>(to_device, size);
}

}  // namespace rrto::perf
