// A synthetic model: the launch sequence of one of tracegen's plans
// (ResNet-50, BERT-base, detector) run for real through the driver API, with
// the plan's kernels, argument lists, block sizes, copies and
// synchronisations, so that the number and shape of the operators are the
// model's. Inputs and outputs have the model's real sizes. What is scaled
// down is what does not cross the network: grids (kThreadsPerElement), weight
// tensors and activations (kPerfSpan floats each, see perf_kernels.cu).
#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "tracegen/model_plan.h"
#include "perf/workloads/photo_input.h"
#include "perf/workloads/workload.h"

extern "C" const unsigned char rrto_perf_fatbin[];

namespace rrto::perf {
namespace {

using tracegen::ArgTag;
using tracegen::ModelPlan;
using tracegen::StepType;

// A launch covering `elems` elements gets elems / kElementsPerThread threads,
// between one block and kMaxThreads: the host backend then runs a ResNet-50
// inference in a few milliseconds, about what a GPU takes.
constexpr uint64_t kElementsPerThread = 256;
constexpr uint64_t kMaxThreads = 2048;
constexpr size_t kSpanBytes = kPerfSpan * sizeof(float);

ModelPlan plan_for(std::string_view model) {
  if (model == "bert") return tracegen::bert_base_plan();
  if (model == "detector") return tracegen::detector_plan();
  return tracegen::resnet50_plan();
}

struct LaunchStep {
  CUfunction function = nullptr;
  unsigned grid = 1, block = 1, shared_mem = 0;
  std::vector<uint64_t> values;  // one per parameter, the low bytes used for 4-byte ones
  std::vector<void*> params;     // into values
  int scalar = -1;               // index of the per-iteration scalar, if any
};

class ModelWorkload final : public Workload {
 public:
  ModelWorkload(std::string_view model, bool changing_scalar)
      : plan_(plan_for(model)), changing_scalar_(changing_scalar), takes_images_(model != "bert") {}

  bool setup(Driver& d) override {
    driver_ = &d;
    CUmodule module = nullptr;
    if (!d.load_module(rrto_perf_fatbin, module) || !timer_.init(d)) return false;
    functions_.resize(plan_.kernels.size());
    for (size_t k = 0; k < plan_.kernels.size(); ++k)
      if (!d.function(module, plan_.kernels[k].name.c_str(), functions_[k])) return false;
    // Stream 0 in a plan is the legacy default stream, as the program used it.
    if (plan_.stream != 0 && !d.create_stream(stream_)) return false;
    if (takes_images_) {
      std::string note;
      if (!photos_.load(default_photo_dir(), note))
        fmt::print(stderr, "rrto-perf-workload: random inputs instead of photographs: {}\n", note);
    }
    return allocate(d) && build_launches();
  }

  void prepare(uint64_t i) override {
    for (size_t b = 0; b < inputs_.size(); ++b)
      if (!photos_.fill(i, host_inputs_[b], host_inputs_[b].size())) fill_input(i, static_cast<uint32_t>(b), host_inputs_[b]);
    scalar_ = changing_scalar_ ? i : 0;
  }

  bool run(uint64_t, uint64_t* compute_ns) override {
    Driver& d = *driver_;
    size_t next_launch = 0;
    for (size_t s = 0; s < plan_.steps.size(); ++s) {
      const tracegen::Step& step = plan_.steps[s];
      switch (step.type) {
        case StepType::Upload: {
          const uint32_t b = step.buffer;
          const size_t bytes = plan_.input_bytes[b];
          if (!d.copy_to_device(inputs_[b], host_inputs_[b].data(), bytes, stream_, step.async)) return false;
          break;
        }
        case StepType::Download: {
          const uint32_t b = step.buffer;
          const size_t bytes = plan_.output_bytes[b];
          if (!d.copy_to_host(host_outputs_[b].data(), outputs_[b], bytes, stream_, step.async)) return false;
          break;
        }
        case StepType::StreamSync:
          if (!d.synchronize(stream_)) return false;
          break;
        case StepType::Launch: {
          LaunchStep& l = launches_[next_launch];
          if (compute_ns && next_launch == 0 && !timer_.start(stream_)) return false;
          if (l.scalar >= 0) l.values[l.scalar] = scalar_;
          if (!d.launch(l.function, l.grid, l.block, l.shared_mem, stream_, l.params.data(),
                        plan_.kernels[step.kernel].name))
            return false;
          ++next_launch;
          if (compute_ns && next_launch == launches_.size() && !timer_.stop(stream_)) return false;
          break;
        }
      }
    }
    for (size_t b = 0; b < host_outputs_.size(); ++b) add_to_checksum(host_outputs_[b].data(), plan_.output_bytes[b]);
    return !compute_ns || timer_.elapsed(*compute_ns);
  }

  uint64_t payload_up() const override { return sum(plan_.input_bytes); }
  uint64_t payload_down() const override { return sum(plan_.output_bytes); }

 private:
  static uint64_t sum(const std::vector<uint64_t>& v) {
    uint64_t total = 0;
    for (uint64_t x : v) total += x;
    return total;
  }

  // One allocation per kind of buffer, as a framework's caching allocator
  // would: a weight arena uploaded once, the activation slots, the workspace.
  bool allocate(Driver& d) {
    uint64_t workspace_end = 0;
    for (const tracegen::Step& s : plan_.steps)
      for (const tracegen::Arg& a : s.args)
        if (a.tag == ArgTag::Workspace) workspace_end = std::max(workspace_end, a.value);
    workspace_bytes_ = workspace_end + kSpanBytes;

    std::vector<float> weights(plan_.weight_bytes.size() * kPerfSpan);
    fill_input(~0ull, 0, weights);
    if (!d.alloc(weights_, std::max<size_t>(weights.size() * sizeof(float), kSpanBytes)) ||
        !d.copy_to_device(weights_, weights.data(), weights.size() * sizeof(float), nullptr, false) ||
        !d.alloc(activations_, plan_.activation_slots * kSpanBytes) || !d.alloc(workspace_, workspace_bytes_) ||
        !d.memset8(activations_, 0, plan_.activation_slots * kSpanBytes))
      return false;
    for (uint64_t bytes : plan_.input_bytes) {
      inputs_.emplace_back();
      host_inputs_.emplace_back(std::max<size_t>(bytes, kSpanBytes) / sizeof(float));
      if (!d.alloc(inputs_.back(), std::max<size_t>(bytes, kSpanBytes))) return false;
    }
    for (uint64_t bytes : plan_.output_bytes) {
      outputs_.emplace_back();
      host_outputs_.emplace_back(bytes);
      if (!d.alloc(outputs_.back(), std::max<size_t>(bytes, kSpanBytes))) return false;
    }
    return true;
  }

  uint64_t arg_value(const tracegen::Arg& a) const {
    switch (a.tag) {
      case ArgTag::Const: return a.value;
      case ArgTag::BatchSize: return 1;
      case ArgTag::Weight: return weights_ + a.value * kSpanBytes;
      case ArgTag::Activation: return activations_ + a.value * kSpanBytes;
      case ArgTag::Input: return inputs_[a.value];
      case ArgTag::Output: return outputs_[a.value];
      case ArgTag::Workspace: return workspace_ + a.value;
      case ArgTag::IterationScalar: return 0;
    }
    return 0;
  }

  bool build_launches() {
    for (const tracegen::Step& s : plan_.steps) {
      if (s.type != StepType::Launch) continue;
      const tracegen::KernelSig& sig = plan_.kernels[s.kernel];
      if (sig.param_sizes.size() != s.args.size()) {
        return driver_->fail(fmt::format("plan of {}: {} takes {} arguments, not {}", plan_.name, sig.name,
                                         sig.param_sizes.size(), s.args.size()));
      }
      LaunchStep l;
      l.function = functions_[s.kernel];
      const uint64_t threads = std::clamp<uint64_t>(s.elems / kElementsPerThread, 1, kMaxThreads);
      l.block = s.block;
      l.grid = static_cast<unsigned>((threads + s.block - 1) / s.block);
      l.shared_mem = s.shared_mem;
      for (size_t a = 0; a < s.args.size(); ++a) {
        l.values.push_back(arg_value(s.args[a]));
        if (s.args[a].tag == ArgTag::IterationScalar) l.scalar = static_cast<int>(a);
      }
      launches_.push_back(std::move(l));
    }
    // Pointers into `values` only once no vector moves any more. Little
    // endian: a 4-byte parameter is the low half of its uint64_t.
    for (LaunchStep& l : launches_)
      for (uint64_t& v : l.values) l.params.push_back(&v);
    return true;
  }

  ModelPlan plan_;
  bool changing_scalar_;
  bool takes_images_;  // its input is a photograph (not BERT's token ids)
  PhotoInputs photos_;
  Driver* driver_ = nullptr;
  std::vector<CUfunction> functions_;
  CUstream stream_ = nullptr;
  KernelTimer timer_;
  CUdeviceptr weights_ = 0, activations_ = 0, workspace_ = 0;
  uint64_t workspace_bytes_ = 0;
  std::vector<CUdeviceptr> inputs_, outputs_;
  std::vector<std::vector<float>> host_inputs_;
  std::vector<std::vector<uint8_t>> host_outputs_;
  std::vector<LaunchStep> launches_;
  uint64_t scalar_ = 0;
};

}  // namespace

std::unique_ptr<Workload> make_model_workload(std::string_view model, bool changing_scalar) {
  return std::make_unique<ModelWorkload>(model, changing_scalar);
}

}  // namespace rrto::perf
