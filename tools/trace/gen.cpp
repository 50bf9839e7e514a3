// rrto-trace gen: write a synthetic trace (tracegen) to a file.
#include <fmt/core.h>

#include <charconv>

#include "tracegen/tracegen.h"
#include "recorder/trace_writer.h"
#include "tools/trace/commands.h"

namespace rrto::trace_tool {

namespace {

template <typename T>
bool parse_number(std::string_view s, T& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

// "resnet50:8,bert" -> workloads
bool parse_workloads(std::string_view spec, std::vector<tracegen::Workload>& out) {
  while (!spec.empty()) {
    const size_t comma = spec.find(',');
    std::string_view item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    tracegen::Workload w;
    const size_t colon = item.find(':');
    if (colon != std::string_view::npos) {
      if (!parse_number(item.substr(colon + 1), w.batch) || w.batch == 0) return false;
      item = item.substr(0, colon);
    }
    if (!tracegen::parse_model(item, w.model)) return false;
    out.push_back(w);
  }
  return !out.empty();
}

}  // namespace

int run_gen(const Args& args) {
  if (args.positional.size() != 1) {
    fmt::print(stderr, "usage: rrto-trace gen OUT --model M[:BATCH][,M...] [--iterations N] [--seed S] [--noise]\n"
                       "       [--pointer-changes] [--changing-scalar]   |   rrto-trace gen OUT --model random --ops N\n");
    return kExitUsage;
  }
  const std::string* model = args.option("--model");
  const std::string spec = model ? *model : "resnet50";
  uint64_t seed = 1;
  if (const std::string* v = args.option("--seed"); v && !parse_number(*v, seed)) {
    fmt::print(stderr, "rrto-trace: --seed wants a number, not '{}'\n", *v);
    return kExitUsage;
  }

  Trace trace;
  if (spec == "random") {
    uint64_t ops = 100000;
    if (const std::string* v = args.option("--ops"); v && !parse_number(*v, ops)) {
      fmt::print(stderr, "rrto-trace: --ops wants a number, not '{}'\n", *v);
      return kExitUsage;
    }
    tracegen::generate_random(ops, seed, trace);
  } else {
    tracegen::Options o;
    o.workloads.clear();
    if (!parse_workloads(spec, o.workloads)) {
      fmt::print(stderr, "rrto-trace: bad --model '{}' (resnet50, bert, detector, each with an optional :BATCH)\n",
                 spec);
      return kExitUsage;
    }
    if (const std::string* v = args.option("--iterations"); v && !parse_number(*v, o.iterations)) {
      fmt::print(stderr, "rrto-trace: --iterations wants a number, not '{}'\n", *v);
      return kExitUsage;
    }
    o.seed = seed;
    if (args.option("--noise")) {
      o.noise.init_ops = 1000;
      o.noise.weight_uploads = true;
      o.noise.autotune_runs = 3;
      o.noise.warmup_iterations = 3;
      o.noise.first_iteration_differs = true;
    }
    o.pointer_changes = args.option("--pointer-changes") != nullptr;
    o.changing_scalar = args.option("--changing-scalar") != nullptr;
    tracegen::generate(o, trace);
  }

  const std::string& path = args.positional[0];
  TraceWriter writer;
  Status s = writer.open(path);
  for (size_t i = 0; s == Status::Ok && i < trace.size(); ++i) s = writer.write(trace[i]);
  if (s == Status::Ok) s = writer.close();
  if (s != Status::Ok) {
    fmt::print(stderr, "rrto-trace: {}\n", writer.error());
    return kExitBadFile;
  }
  if (!args.json) fmt::print("{}: {} ops\n", path, trace.size());
  return kExitOk;
}

}  // namespace rrto::trace_tool
