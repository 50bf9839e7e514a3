// An inference that is all device time: a small input up, one kernel that
// takes a given number of microseconds (rrto_perf_sleep), a small output down.
// On the host backend the kernel sleeps, so many clients and emulated devices
// fit on a few cores: for measuring how sessions share devices.
#include <vector>

#include "perf/workloads/workload.h"

extern "C" const unsigned char rrto_perf_fatbin[];

namespace rrto::perf {
namespace {

constexpr int kElements = 256;  // 1 KiB each way
constexpr unsigned kBlock = 256;

class SleepWorkload final : public Workload {
 public:
  explicit SleepWorkload(uint32_t kernel_us) : kernel_us_(static_cast<int>(kernel_us)) {}

  bool setup(Driver& d) override {
    driver_ = &d;
    CUmodule module = nullptr;
    return d.load_module(rrto_perf_fatbin, module) && d.function(module, "rrto_perf_sleep", sleep_) &&
           d.create_stream(stream_) && timer_.init(d) && d.alloc(input_, kPerfSpan * sizeof(float)) &&
           d.alloc(output_, kPerfSpan * sizeof(float));
  }

  void prepare(uint64_t i) override {
    host_input_.resize(kElements);
    fill_input(i, 0, host_input_);
    host_output_.assign(kElements, 0.0f);
  }

  bool run(uint64_t, uint64_t* compute_ns) override {
    Driver& d = *driver_;
    int n = kElements;
    void* params[] = {&input_, &output_, &n, &kernel_us_};
    if (!d.copy_to_device(input_, host_input_.data(), kElements * sizeof(float), stream_, true)) return false;
    if (compute_ns && !timer_.start(stream_)) return false;
    if (!d.launch(sleep_, 1, kBlock, 0, stream_, params, "rrto_perf_sleep")) return false;
    if (compute_ns && !timer_.stop(stream_)) return false;
    if (!d.copy_to_host(host_output_.data(), output_, kElements * sizeof(float), stream_, true) ||
        !d.synchronize(stream_))
      return false;
    add_to_checksum(host_output_.data(), kElements * sizeof(float));
    return !compute_ns || timer_.elapsed(*compute_ns);
  }

  uint64_t payload_up() const override { return kElements * sizeof(float); }
  uint64_t payload_down() const override { return kElements * sizeof(float); }

 private:
  int kernel_us_;
  Driver* driver_ = nullptr;
  CUfunction sleep_ = nullptr;
  CUstream stream_ = nullptr;
  KernelTimer timer_;
  CUdeviceptr input_ = 0, output_ = 0;
  std::vector<float> host_input_, host_output_;
};

}  // namespace

std::unique_ptr<Workload> make_sleep_workload(uint32_t kernel_us) {
  return std::make_unique<SleepWorkload>(kernel_us);
}

}  // namespace rrto::perf
