// Synthetic op streams shaped like real inference workloads, for the
// matcher's tests and benchmarks: ResNet-50 (about 310 launches, 21 distinct
// kernels per iteration), BERT-base (about 700 launches, 22 distinct kernels,
// 12 identical layers) and a detector that copies a small tensor back in the
// middle of its iteration. Initialisation noise, pointer changes, a changing
// scalar argument and alternation of workloads are switched on by Options.
// Deterministic: the same options give the same trace.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "recorder/trace.h"

namespace rrto::tracegen {

enum class Model { ResNet50, BertBase, Detector };

const char* model_name(Model model);  // "resnet50", "bert", "detector"
bool parse_model(std::string_view name, Model& out);

// One kind of inference the program runs: a model at a batch size.
struct Workload {
  Model model = Model::ResNet50;
  uint32_t batch = 8;
};

struct Noise {
  // Random allocation memsets, uploads, launches, events and small readbacks.
  uint32_t init_ops = 0;
  // One upload per weight tensor of every model used.
  bool weight_uploads = false;
  // Full forward passes with other kernels (other algorithms) and timing
  // events around each candidate, one algorithm per run.
  uint32_t autotune_runs = 0;
  // Forward passes at batch sizes the steady state never uses, each different.
  uint32_t warmup_iterations = 0;
  // The first steady iteration also initialises a library lazily (extra ops).
  bool first_iteration_differs = false;
};

struct Options {
  // Steady iterations cycle through these in order.
  std::vector<Workload> workloads = {Workload{}};
  uint32_t iterations = 10;
  Noise noise;
  // Inputs, outputs and activations alternate between two buffer sets.
  bool pointer_changes = false;
  // One launch per iteration takes an argument that changes every iteration.
  bool changing_scalar = false;
  uint64_t seed = 1;
};

struct IterationMark {
  uint64_t start = 0;
  uint32_t length = 0;
  uint32_t workload = 0;  // index in Options::workloads
  bool regular = true;    // false for a first iteration that differs
};

// Where things are in a generated trace, for tests to check against.
struct Truth {
  uint64_t noise_end = 0;  // index of the first steady iteration's first op
  std::vector<IterationMark> iterations;  // the steady iterations
  // Per workload: ops in a regular iteration, and the position in it of the
  // launch that takes the changing scalar and that parameter's ordinal.
  std::vector<uint32_t> regular_length;
  std::vector<uint32_t> scalar_position;
  std::vector<uint32_t> scalar_param;
};

void generate(const Options& options, Trace& out, Truth* truth = nullptr);

// Ops drawn at random, sizes and geometry included: nothing repeats.
void generate_random(uint64_t ops, uint64_t seed, Trace& out);

}  // namespace rrto::tracegen
