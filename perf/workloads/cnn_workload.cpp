// The example CNN (examples/cnn): the same 13 launches per inference as
// cnn_driver, with its weights, its inputs and its kernels (a copy of its
// fatbin; the host backend finds them in librrto_example_kernels.so).
#include "cnn_model.h"
#include "perf/workloads/workload.h"

extern "C" const unsigned char rrto_perf_cnn_fatbin[];

namespace rrto::perf {
namespace {

class CnnWorkload final : public Workload {
 public:
  bool setup(Driver& d) override {
    driver_ = &d;
    CUmodule module = nullptr;
    if (!d.load_module(rrto_perf_cnn_fatbin, module)) return false;
    for (int k = 0; k < cnn::kKernelCount; ++k)
      if (!d.function(module, cnn::kKernelNames[k].mangled, functions_[k])) return false;
    if (!d.create_stream(stream_) || !timer_.init(d)) return false;

    const cnn::Weights w = cnn::Weights::generate();
    auto upload = [&](CUdeviceptr& p, const std::vector<float>& v) {
      return d.alloc(p, v.size() * sizeof(float)) &&
             d.copy_to_device(p, v.data(), v.size() * sizeof(float), nullptr, false);
    };
    auto alloc = [&](CUdeviceptr& p, size_t floats) { return d.alloc(p, floats * sizeof(float)); };
    sizes_ = cnn::Sizes::for_batch(1);
    return upload(b_.conv1_w, w.conv1_w) && upload(b_.conv1_b, w.conv1_b) && upload(b_.conv2_w, w.conv2_w) &&
           upload(b_.conv2_b, w.conv2_b) && upload(b_.conv3_w, w.conv3_w) && upload(b_.conv3_b, w.conv3_b) &&
           upload(b_.fc1_w, w.fc1_w) && upload(b_.fc1_b, w.fc1_b) && upload(b_.fc2_w, w.fc2_w) &&
           upload(b_.fc2_b, w.fc2_b) && alloc(b_.input, sizes_.input) && alloc(b_.x0, sizes_.x0) &&
           alloc(b_.c1, sizes_.c1) && alloc(b_.c2, sizes_.c2) && alloc(b_.p2, sizes_.p2) &&
           alloc(b_.c3, sizes_.c3) && alloc(b_.p3, sizes_.p3) && alloc(b_.d1, sizes_.d1) &&
           alloc(b_.d2, sizes_.d2) && alloc(b_.output, sizes_.output);
  }

  void prepare(uint64_t i) override {
    cnn::generate_input(static_cast<int>(i % (1u << 30)), 1, pixels_);
    output_.assign(sizes_.output, 0.0f);
  }

  bool run(uint64_t, uint64_t* compute_ns) override {
    Driver& d = *driver_;
    if (!d.copy_to_device(b_.input, pixels_.data(), pixels_.size() * sizeof(float), stream_, true)) return false;
    if (compute_ns && !timer_.start(stream_)) return false;
    const bool launched = cnn::forward(
        b_, 1,
        [&](cnn::KernelId id, unsigned grid, unsigned block, auto... args) {
          void* params[] = {static_cast<void*>(&args)...};
          const int k = static_cast<int>(id);
          return d.launch(functions_[k], grid, block, 0, stream_, params, cnn::kKernelNames[k].mangled);
        },
        true);
    if (!launched) return false;
    if (compute_ns && !timer_.stop(stream_)) return false;
    if (!d.copy_to_host(output_.data(), b_.output, output_.size() * sizeof(float), stream_, true) ||
        !d.synchronize(stream_))
      return false;
    add_to_checksum(output_.data(), output_.size() * sizeof(float));
    return !compute_ns || timer_.elapsed(*compute_ns);
  }

  uint64_t payload_up() const override { return sizes_.input * sizeof(float); }
  uint64_t payload_down() const override { return sizes_.output * sizeof(float); }

 private:
  Driver* driver_ = nullptr;
  CUfunction functions_[cnn::kKernelCount] = {};
  CUstream stream_ = nullptr;
  KernelTimer timer_;
  cnn::Sizes sizes_{};
  cnn::Buffers<CUdeviceptr> b_;
  std::vector<float> pixels_, output_;
};

}  // namespace

std::unique_ptr<Workload> make_cnn_workload() { return std::make_unique<CnnWorkload>(); }

}  // namespace rrto::perf
