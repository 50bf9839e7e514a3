// rrto-trace stats: what a trace holds.
#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "common/demangle.h"
#include "tools/trace/commands.h"

namespace rrto::trace_tool {

int run_stats(const Args& args) {
  if (args.positional.size() != 1) {
    fmt::print(stderr, "usage: rrto-trace stats FILE [--json]\n");
    return kExitUsage;
  }
  const std::string& path = args.positional[0];
  Trace trace;
  if (!load_trace(path, trace)) return kExitBadFile;

  std::array<uint64_t, kOpKindCount> per_kind{};
  uint64_t htod = 0, dtoh = 0, dtod = 0;
  std::unordered_map<const KernelDef*, uint64_t> launches;
  for (const Op& op : trace.ops()) {
    ++per_kind[static_cast<size_t>(op.kind)];
    if (op.kind == OpKind::KernelLaunch) ++launches[op.kernel];
    if (op.kind == OpKind::MemcpyHtoD) htod += op.bytes;
    if (op.kind == OpKind::MemcpyDtoH) dtoh += op.bytes;
    if (op.kind == OpKind::MemcpyDtoD) dtod += op.bytes;
  }
  std::vector<std::pair<const KernelDef*, uint64_t>> top(launches.begin(), launches.end());
  std::sort(top.begin(), top.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first->id < b.first->id;
  });
  if (top.size() > 10) top.resize(10);

  if (args.json) {
    nlohmann::ordered_json j;
    j["file"] = path;
    j["ops"] = trace.size();
    for (size_t k = 0; k < kOpKindCount; ++k) j["kinds"][op_kind_name(static_cast<OpKind>(k))] = per_kind[k];
    j["distinct_kernels"] = launches.size();
    j["bytes"] = {{"htod", htod}, {"dtoh", dtoh}, {"dtod", dtod}};
    j["top_kernels"] = nlohmann::ordered_json::array();
    for (const auto& [k, n] : top)
      j["top_kernels"].push_back({{"name", demangled(k->name)}, {"symbol", k->name}, {"launches", n}});
    fmt::print("{}\n", j.dump(2));
    return kExitOk;
  }
  fmt::print("{}: {} ops, {} distinct kernels\n", path, trace.size(), launches.size());
  for (size_t k = 0; k < kOpKindCount; ++k) {
    if (per_kind[k]) fmt::print("  {:<20} {:>10}\n", op_kind_name(static_cast<OpKind>(k)), per_kind[k]);
  }
  fmt::print("  bytes: htod {}  dtoh {}  dtod {}\n", htod, dtoh, dtod);
  if (!top.empty()) {
    fmt::print("most launched kernels:\n");
    for (const auto& [k, n] : top) {
      const std::string name = demangled(k->name);
      fmt::print("  {:>8}  {}\n", n, name == k->name ? name : fmt::format("{}  ({})", name, k->name));
    }
  }
  return kExitOk;
}

}  // namespace rrto::trace_tool
