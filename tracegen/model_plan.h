// A model as the generator sees it: the kernels it uses and the steps of one
// forward pass, with arguments described by meaning (a weight, an activation
// slot, the batch size...) so that an iteration can be emitted for any batch
// size and buffer set.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rrto::tracegen {

struct KernelSig {
  std::string name;
  std::vector<uint8_t> param_sizes;  // in order; offsets follow natural alignment
};

enum class ArgTag : uint8_t {
  Const,            // value as is
  BatchSize,        // the batch size of the iteration
  Weight,           // pointer to weight tensor `value`
  Activation,       // pointer to activation slot `value` of the iteration's buffer set
  Input,            // pointer to device input `value`
  Output,           // pointer to device output `value`
  Workspace,        // pointer into the model's workspace, at byte `value`
  IterationScalar,  // changes every iteration when Options::changing_scalar is set
};

struct Arg {
  ArgTag tag = ArgTag::Const;
  uint64_t value = 0;
};

enum class StepType : uint8_t { Launch, Upload, Download, StreamSync };

struct Step {
  StepType type = StepType::Launch;
  uint32_t kernel = 0;  // index in ModelPlan::kernels
  uint64_t elems = 0;   // per sample; the grid covers elems * batch threads
  uint32_t block = 256;
  uint32_t shared_mem = 0;
  std::vector<Arg> args;
  uint32_t buffer = 0;  // Upload: input index; Download: output index
  bool async = false;
};

struct ModelPlan {
  std::string name;
  uint64_t module_hash = 0;
  uint64_t stream = 0;
  std::vector<KernelSig> kernels;
  std::vector<Step> steps;
  std::vector<uint64_t> weight_bytes;
  std::vector<uint64_t> input_bytes;   // per sample
  std::vector<uint64_t> output_bytes;  // per sample
  uint32_t activation_slots = 8;
  uint64_t activation_bytes = 0;  // per sample, per slot
  uint64_t workspace_bytes = 1u << 20;

  uint32_t kernel(std::string_view name, std::string_view params);  // params: 'p' 8, 'l' 8, 'i' 4, 'f' 4
  uint32_t weight(uint64_t bytes);
  void launch(uint32_t kernel, uint64_t elems, uint32_t block, uint32_t shared_mem, std::vector<Arg> args);
  void upload(uint32_t input, bool async);
  void download(uint32_t output, bool async);
  void stream_sync();
};

inline Arg C(uint64_t v) { return {ArgTag::Const, v}; }
inline Arg B() { return {ArgTag::BatchSize, 0}; }
inline Arg W(uint64_t index) { return {ArgTag::Weight, index}; }
inline Arg A(uint64_t slot) { return {ArgTag::Activation, slot}; }
inline Arg In(uint64_t index) { return {ArgTag::Input, index}; }
inline Arg Out(uint64_t index) { return {ArgTag::Output, index}; }
inline Arg Ws(uint64_t offset) { return {ArgTag::Workspace, offset}; }
inline Arg S() { return {ArgTag::IterationScalar, 0}; }
inline Arg F(float v) {
  uint32_t bits;
  __builtin_memcpy(&bits, &v, 4);
  return {ArgTag::Const, bits};
}

ModelPlan resnet50_plan();
ModelPlan bert_base_plan();
ModelPlan detector_plan();

}  // namespace rrto::tracegen
