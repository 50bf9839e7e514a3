// Matcher benchmark: steady-state cost per op once a template is confirmed,
// and the time to search a 100,000-op history, on ResNet-50- and BERT-shaped
// traces (with initialisation noise, pointer changes and a changing scalar).
// Also the cost of building and sealing an Op, what the client pays per call.
//
//   build/bin/bench_matcher [--reps N]
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string_view>

#include "matcher/matcher.h"
#include "matcher/search.h"
#include "tracegen/tracegen.h"

using namespace rrto;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kHistoryOps = 100000;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void make_trace(tracegen::Model model, size_t min_ops, Trace& out) {
  tracegen::Options o;
  o.workloads = {{model, 8}};
  o.noise.init_ops = 2000;
  o.noise.weight_uploads = true;
  o.noise.autotune_runs = 3;
  o.noise.warmup_iterations = 3;
  o.noise.first_iteration_differs = true;
  o.pointer_changes = true;
  o.changing_scalar = true;
  o.iterations = static_cast<uint32_t>(min_ops / (model == tracegen::Model::BertBase ? 700 : 310) + 1);
  tracegen::generate(o, out);
}

struct SteadyResult {
  double ns_per_op = 0;
  size_t ops = 0;
  uint64_t checksum = 0;
};

// Feeds the whole trace; times only the ops after the confirmation.
SteadyResult steady_state(std::span<const Op> ops, int reps) {
  SteadyResult best;
  best.ns_per_op = 1e30;
  for (int r = 0; r < reps; ++r) {
    Matcher m;
    size_t i = 0;
    for (; i < ops.size(); ++i) {
      if (m.feed(ops[i]).kind == MatchEventKind::Confirmed) break;
    }
    ++i;
    uint64_t checksum = 0;
    const auto t0 = Clock::now();
    for (size_t j = i; j < ops.size(); ++j) {
      const MatchEvent ev = m.feed(ops[j]);
      checksum += static_cast<uint64_t>(ev.kind) + ev.position;
    }
    const double s = seconds_since(t0);
    const size_t n = ops.size() - std::min(i, ops.size());
    if (n && s * 1e9 / n < best.ns_per_op) best = {s * 1e9 / static_cast<double>(n), n, checksum};
  }
  return best;
}

double search_ms(std::span<const Op> ops, int reps, SearchResult& result) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    result = search(ops);
    best = std::min(best, seconds_since(t0) * 1e3);
  }
  return best;
}

double op_build_ns(const Trace& trace, int reps) {
  // Rebuild every launch of the trace from its fields, as the client does
  // from a cuLaunchKernel call.
  double best = 1e30;
  uint64_t sink = 0;
  for (int r = 0; r < reps; ++r) {
    size_t n = 0;
    const auto t0 = Clock::now();
    for (const Op& src : trace.ops()) {
      if (src.kind != OpKind::KernelLaunch) continue;
      const Op op = Op::launch(*src.kernel, src.grid, src.block, src.shared_mem, src.stream, src.arg_bytes());
      sink += op.full_sig;
      ++n;
    }
    best = std::min(best, seconds_since(t0) * 1e9 / static_cast<double>(n));
  }
  if (sink == 42) fmt::print("");
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 5;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string_view(argv[i]) == "--reps") reps = std::max(1, std::atoi(argv[i + 1]));
  }
  fmt::print("{:<10} {:>12} {:>14} {:>16} {:>12} {:>10} {:>14}\n", "trace", "steady ops", "steady ns/op",
             "search 100k ops", "iteration", "prefix", "op build ns");
  for (tracegen::Model model : {tracegen::Model::ResNet50, tracegen::Model::BertBase}) {
    Trace trace;
    make_trace(model, 300000, trace);
    const SteadyResult steady = steady_state(trace.ops(), reps);
    SearchResult found;
    const double ms = search_ms(trace.ops().first(std::min(kHistoryOps, trace.size())), reps, found);
    const double build = op_build_ns(trace, reps);
    fmt::print("{:<10} {:>12} {:>14.1f} {:>13.2f} ms {:>12} {:>10} {:>14.1f}\n", tracegen::model_name(model),
               steady.ops, steady.ns_per_op, ms, found.iteration_length, found.prefix_length, build);
  }
  Trace random;
  tracegen::generate_random(kHistoryOps, 1, random);
  SearchResult none;
  const double ms = search_ms(random.ops(), reps, none);
  fmt::print("{:<10} {:>12} {:>14} {:>13.2f} ms {:>12} {:>10} {:>14}\n", "random", "-", "-", ms, none.iteration_length,
             none.prefix_length, "-");
  return 0;
}
