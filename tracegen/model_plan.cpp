#include "tracegen/model_plan.h"

namespace rrto::tracegen {

uint32_t ModelPlan::kernel(std::string_view name, std::string_view params) {
  for (uint32_t i = 0; i < kernels.size(); ++i) {
    if (kernels[i].name == name) return i;
  }
  KernelSig sig;
  sig.name = std::string(name);
  for (char c : params) sig.param_sizes.push_back(c == 'p' || c == 'l' ? 8 : 4);
  kernels.push_back(std::move(sig));
  return static_cast<uint32_t>(kernels.size() - 1);
}

uint32_t ModelPlan::weight(uint64_t bytes) {
  weight_bytes.push_back(bytes);
  return static_cast<uint32_t>(weight_bytes.size() - 1);
}

void ModelPlan::launch(uint32_t k, uint64_t elems, uint32_t block, uint32_t shared_mem, std::vector<Arg> args) {
  Step s;
  s.type = StepType::Launch;
  s.kernel = k;
  s.elems = elems;
  s.block = block;
  s.shared_mem = shared_mem;
  s.args = std::move(args);
  steps.push_back(std::move(s));
}

void ModelPlan::upload(uint32_t input, bool async) {
  Step s;
  s.type = StepType::Upload;
  s.buffer = input;
  s.async = async;
  steps.push_back(s);
}

void ModelPlan::download(uint32_t output, bool async) {
  Step s;
  s.type = StepType::Download;
  s.buffer = output;
  s.async = async;
  steps.push_back(s);
}

void ModelPlan::stream_sync() {
  Step s;
  s.type = StepType::StreamSync;
  steps.push_back(s);
}

}  // namespace rrto::tracegen
