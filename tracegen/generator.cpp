#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "tracegen/model_plan.h"
#include "tracegen/rng.h"
#include "tracegen/tracegen.h"

namespace rrto::tracegen {

const char* model_name(Model model) {
  switch (model) {
    case Model::ResNet50: return "resnet50";
    case Model::BertBase: return "bert";
    case Model::Detector: return "detector";
  }
  return "unknown";
}

bool parse_model(std::string_view name, Model& out) {
  for (Model m : {Model::ResNet50, Model::BertBase, Model::Detector}) {
    if (name == model_name(m)) {
      out = m;
      return true;
    }
  }
  return false;
}

namespace {

constexpr uint64_t kRuntimeModule = 0x0c0da0c0da000001ull;
constexpr uint64_t kTimingEventStart = 0x1000;
constexpr uint64_t kTimingEventStop = 0x1001;

ModelPlan plan_for(Model m) {
  switch (m) {
    case Model::ResNet50: return resnet50_plan();
    case Model::BertBase: return bert_base_plan();
    case Model::Detector: return detector_plan();
  }
  return resnet50_plan();
}

std::vector<KernelParam> layout_of(const std::vector<uint8_t>& sizes) {
  std::vector<KernelParam> params;
  uint32_t at = 0;
  for (uint8_t size : sizes) {
    at = (at + size - 1) / size * size;
    params.push_back({at, size});
    at += size;
  }
  return params;
}

// Fake address spaces: device pointers the way the server would hand them
// out, host pointers the way malloc would.
struct AddressSpace {
  uint64_t next_device = 0x7f4a00000000ull;
  uint64_t next_host = 0x55d000000000ull;
  uint64_t device(uint64_t bytes) { return take(next_device, bytes); }
  uint64_t host(uint64_t bytes) { return take(next_host, bytes); }

 private:
  static uint64_t take(uint64_t& next, uint64_t bytes) {
    const uint64_t p = next;
    next += (std::max<uint64_t>(bytes, 1) + 511) & ~uint64_t{511};
    return p;
  }
};

// A model placed in (fake) memory with its kernels interned.
struct Placed {
  ModelPlan plan;
  std::vector<const KernelDef*> kernels;
  std::vector<uint64_t> weights;
  uint64_t workspace = 0;
  uint64_t activations[2] = {};
  uint64_t slot_stride = 0;
  std::vector<uint64_t> inputs[2], outputs[2], host_inputs[2], host_outputs[2];
  uint32_t max_batch = 1;
};

enum class Variant { Regular, LazyInit, Autotune };

class Generator {
 public:
  Generator(const Options& o, Trace& out) : opt_(o), out_(out), rng_(o.seed) {}

  void run(Truth* truth);

 private:
  Placed& placed(Model m);
  const KernelDef* runtime_kernel(const std::string& name, std::string_view params);
  void init_noise();
  void weight_uploads();
  void iteration(Placed& m, uint32_t batch, uint32_t set, Variant variant, uint32_t autotune_run = 0);
  void launch(Placed& m, const Step& s, const KernelDef* k, uint32_t batch, uint32_t set);
  uint64_t arg_value(const Placed& m, const Arg& a, uint32_t batch, uint32_t set) const;
  void emit(const Op& op) { out_.append(op); }

  const Options& opt_;
  Trace& out_;
  Rng rng_;
  AddressSpace mem_;
  std::vector<std::unique_ptr<Placed>> models_;
  std::vector<uint8_t> args_;
  uint64_t scalar_ = 0;
};

Placed& Generator::placed(Model model) {
  const std::string name = model_name(model);
  for (auto& m : models_) {
    if (m->plan.name == name) return *m;
  }
  auto m = std::make_unique<Placed>();
  m->plan = plan_for(model);
  for (const KernelSig& k : m->plan.kernels) {
    m->kernels.push_back(out_.kernels().intern(m->plan.module_hash, k.name, layout_of(k.param_sizes)));
  }
  for (const Workload& w : opt_.workloads) {
    if (w.model == model) m->max_batch = std::max(m->max_batch, w.batch);
  }
  m->max_batch = std::max(m->max_batch, opt_.noise.warmup_iterations + 1);
  for (uint64_t bytes : m->plan.weight_bytes) m->weights.push_back(mem_.device(bytes));
  m->workspace = mem_.device(m->plan.workspace_bytes);
  m->slot_stride = m->plan.activation_bytes * m->max_batch;
  for (int set = 0; set < 2; ++set) {
    m->activations[set] = mem_.device(m->slot_stride * m->plan.activation_slots);
    for (uint64_t b : m->plan.input_bytes) {
      m->inputs[set].push_back(mem_.device(b * m->max_batch));
      m->host_inputs[set].push_back(mem_.host(b * m->max_batch));
    }
    for (uint64_t b : m->plan.output_bytes) {
      m->outputs[set].push_back(mem_.device(b * m->max_batch));
      m->host_outputs[set].push_back(mem_.host(b * m->max_batch));
    }
  }
  models_.push_back(std::move(m));
  return *models_.back();
}

const KernelDef* Generator::runtime_kernel(const std::string& name, std::string_view params) {
  std::vector<uint8_t> sizes;
  for (char c : params) sizes.push_back(c == 'p' || c == 'l' ? 8 : 4);
  return out_.kernels().intern(kRuntimeModule, name, layout_of(sizes));
}

uint64_t Generator::arg_value(const Placed& m, const Arg& a, uint32_t batch, uint32_t set) const {
  switch (a.tag) {
    case ArgTag::Const: return a.value;
    case ArgTag::BatchSize: return batch;
    case ArgTag::Weight: return m.weights[a.value];
    case ArgTag::Activation: return m.activations[set] + a.value * m.slot_stride;
    case ArgTag::Input: return m.inputs[set][a.value];
    case ArgTag::Output: return m.outputs[set][a.value];
    case ArgTag::Workspace: return m.workspace + a.value;
    case ArgTag::IterationScalar: return scalar_;
  }
  return 0;
}

void Generator::launch(Placed& m, const Step& s, const KernelDef* k, uint32_t batch, uint32_t set) {
  const auto& params = k->params;
  args_.assign(params.empty() ? 0 : params.back().offset + params.back().size, 0);
  for (size_t i = 0; i < params.size() && i < s.args.size(); ++i) {
    const uint64_t v = arg_value(m, s.args[i], batch, set);
    std::memcpy(args_.data() + params[i].offset, &v, params[i].size);
  }
  const uint64_t threads = std::max<uint64_t>(s.elems * batch, 1);
  const Dim3 grid{static_cast<uint32_t>(std::min<uint64_t>((threads + s.block - 1) / s.block, 0x7fffffff)), 1, 1};
  emit(Op::launch(*k, grid, Dim3{s.block, 1, 1}, s.shared_mem, m.plan.stream, args_));
}

void Generator::iteration(Placed& m, uint32_t batch, uint32_t set, Variant variant, uint32_t autotune_run) {
  const uint64_t stream = m.plan.stream;
  const size_t lazy_at = m.plan.steps.size() / 3;
  for (size_t i = 0; i < m.plan.steps.size(); ++i) {
    const Step& s = m.plan.steps[i];
    if (variant == Variant::LazyInit && i == lazy_at) {
      // A library creating its handle and workspace on first use.
      emit(Op::memset_d(m.workspace + (4 << 20), 0, 4, 1 << 18, stream, true));
      const Step init{StepType::Launch, 0, 1, 32, 0, {Ws(4 << 20), C(1 << 18)}, 0, false};
      launch(m, init, runtime_kernel("cublas_lazy_init", "pi"), 1, set);
      emit(Op::event_record(0x2000, stream));
    }
    switch (s.type) {
      case StepType::Upload:
        emit(Op::memcpy_htod(m.inputs[set][s.buffer], m.host_inputs[set][s.buffer],
                             m.plan.input_bytes[s.buffer] * batch, stream, s.async));
        break;
      case StepType::Download:
        emit(Op::memcpy_dtoh(m.host_outputs[set][s.buffer], m.outputs[set][s.buffer],
                             m.plan.output_bytes[s.buffer] * batch, stream, s.async));
        break;
      case StepType::StreamSync:
        emit(Op::stream_synchronize(stream));
        break;
      case StepType::Launch: {
        const KernelDef* k = m.kernels[s.kernel];
        const bool candidate = variant == Variant::Autotune && k->name.find("gemm") != std::string::npos;
        if (!candidate) {
          launch(m, s, k, batch, set);
          break;
        }
        // cudnnFind-style timing of one algorithm for this layer.
        const KernelDef* algo = out_.kernels().intern(
            m.plan.module_hash, k->name + "_algo" + std::to_string(autotune_run + 1), k->params);
        emit(Op::event_record(kTimingEventStart, stream));
        launch(m, s, algo, batch, set);
        emit(Op::event_record(kTimingEventStop, stream));
        emit(Op::stream_synchronize(stream));
        break;
      }
    }
  }
}

void Generator::init_noise() {
  static const char* const kNames[] = {"fill_kernel", "cast_kernel", "philox_init", "copy_kernel", "iota_kernel"};
  for (uint32_t i = 0; i < opt_.noise.init_ops; ++i) {
    const uint64_t pick = rng_.below(100);
    if (pick < 30) {
      const uint64_t count = 64 + rng_.below(1 << 20);
      emit(Op::memset_d(mem_.device(count * 4), 0, 4, count, 0, false));
    } else if (pick < 55) {
      const uint64_t bytes = 256 + rng_.below(4 << 20);
      emit(Op::memcpy_htod(mem_.device(bytes), mem_.host(bytes), bytes, 0, false));
    } else if (pick < 85) {
      const KernelDef* k = runtime_kernel(kNames[rng_.below(5)], "pli");
      const uint64_t words[2] = {mem_.device(4096), rng_.next()};
      uint8_t args[24] = {};
      std::memcpy(args, words, 16);
      const uint32_t n = static_cast<uint32_t>(rng_.below(1 << 24));
      std::memcpy(args + 16, &n, 4);
      const Dim3 grid{static_cast<uint32_t>(1 + rng_.below(4096)), 1, 1};
      emit(Op::launch(*k, grid, Dim3{static_cast<uint32_t>(32 << rng_.below(5)), 1, 1}, 0, 0, args));
    } else if (pick < 92) {
      const uint64_t bytes = 4 + rng_.below(256);
      emit(Op::memcpy_dtoh(mem_.host(bytes), mem_.device(bytes), bytes, 0, false));
    } else if (pick < 97) {
      emit(Op::event_record(0x3000 + rng_.below(16), 0));
    } else {
      emit(Op::context_synchronize());
    }
  }
}

void Generator::weight_uploads() {
  for (auto& m : models_) {
    for (size_t i = 0; i < m->weights.size(); ++i) {
      const uint64_t bytes = m->plan.weight_bytes[i];
      if (i % 16 == 0) emit(Op::memset_d(m->weights[i], 0, 1, bytes, 0, false));
      emit(Op::memcpy_htod(m->weights[i], mem_.host(bytes), bytes, 0, false));
    }
    emit(Op::memset_d(m->workspace, 0, 1, m->plan.workspace_bytes, 0, false));
  }
}

void Generator::run(Truth* truth) {
  for (const Workload& w : opt_.workloads) placed(w.model);
  init_noise();
  if (opt_.noise.weight_uploads) weight_uploads();

  Placed& first = placed(opt_.workloads.front().model);
  const uint32_t steady_batch = opt_.workloads.front().batch;
  for (uint32_t r = 0; r < opt_.noise.autotune_runs; ++r) {
    iteration(first, steady_batch, 0, Variant::Autotune, r);
  }
  for (uint32_t w = 0, batch = 1; w < opt_.noise.warmup_iterations; ++w, ++batch) {
    const auto is_steady = [&](uint32_t b) {
      return std::any_of(opt_.workloads.begin(), opt_.workloads.end(),
                         [&](const Workload& x) { return x.model == opt_.workloads.front().model && x.batch == b; });
    };
    while (is_steady(batch)) ++batch;
    iteration(first, batch, 0, Variant::Regular);
  }

  Truth t;
  t.noise_end = out_.size();
  for (const Workload& w : opt_.workloads) {
    const ModelPlan& plan = placed(w.model).plan;
    t.regular_length.push_back(static_cast<uint32_t>(plan.steps.size()));
    uint32_t position = 0, param = 0;
    for (size_t i = 0; i < plan.steps.size(); ++i) {
      for (size_t a = 0; a < plan.steps[i].args.size(); ++a) {
        if (plan.steps[i].args[a].tag == ArgTag::IterationScalar) {
          position = static_cast<uint32_t>(i);
          param = static_cast<uint32_t>(a);
        }
      }
    }
    t.scalar_position.push_back(position);
    t.scalar_param.push_back(param);
  }
  for (uint32_t i = 0; i < opt_.iterations; ++i) {
    const uint32_t wi = i % static_cast<uint32_t>(opt_.workloads.size());
    const Workload& w = opt_.workloads[wi];
    if (opt_.changing_scalar) scalar_ = 1000 + 7ull * i;
    const bool lazy = i == 0 && opt_.noise.first_iteration_differs;
    IterationMark mark;
    mark.start = out_.size();
    mark.workload = wi;
    mark.regular = !lazy;
    iteration(placed(w.model), w.batch, opt_.pointer_changes ? i % 2 : 0, lazy ? Variant::LazyInit : Variant::Regular);
    mark.length = static_cast<uint32_t>(out_.size() - mark.start);
    t.iterations.push_back(mark);
  }
  if (truth) *truth = std::move(t);
}

}  // namespace

void generate(const Options& options, Trace& out, Truth* truth) {
  if (options.workloads.empty()) return;
  Generator(options, out).run(truth);
}

}  // namespace rrto::tracegen
