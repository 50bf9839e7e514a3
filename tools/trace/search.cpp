// rrto-trace search: the Operator Sequence Search run offline over a trace.
#include <fmt/core.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "common/demangle.h"
#include "matcher/search.h"
#include "tools/trace/commands.h"

namespace rrto::trace_tool {

namespace {

bool parse_u32(const std::string& s, uint32_t& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

std::string describe(const VariableReport& v) {
  std::string where = v.kernel ? demangled(v.kernel->name) : op_kind_name(v.kind);
  if (v.arg.param >= 0) return fmt::format("{} param {} (bytes {}..{})", where, v.arg.param, v.arg.offset, v.arg.offset + v.arg.size);
  return fmt::format("{} bytes {}..{}", where, v.arg.offset, v.arg.offset + v.arg.size);
}

nlohmann::ordered_json to_json(const std::string& path, const SearchResult& r) {
  nlohmann::ordered_json j;
  j["file"] = path;
  j["ops"] = r.ops;
  j["prefix_length"] = r.prefix_length;
  j["iteration_length"] = r.iteration_length;
  j["boundary"] = r.boundary;
  j["matched_ops"] = r.matched_ops;
  j["broken_events"] = r.broken_events;
  j["templates"] = nlohmann::ordered_json::array();
  for (const TemplateReport& t : r.templates) {
    nlohmann::ordered_json tj;
    tj["id"] = t.id;
    tj["length"] = t.length;
    tj["boundary"] = t.boundary;
    tj["confirmed_at"] = t.confirmed_at;
    tj["ops_consumed"] = t.ops_consumed;
    tj["occurrences"] = t.occurrences;
    tj["confirming_occurrences"] = t.confirming;
    tj["occurrences_after_confirmation"] = t.occurrences - t.confirming;
    tj["copies_before_boundary"] = t.before_boundary;
    tj["broken"] = t.broken;
    tj["variables"] = nlohmann::ordered_json::array();
    for (const VariableReport& v : t.variables) {
      nlohmann::ordered_json vj;
      vj["position"] = v.arg.position;
      vj["kind"] = op_kind_name(v.kind);
      if (v.kernel) vj["kernel"] = v.kernel->name;
      vj["param"] = v.arg.param;
      vj["offset"] = v.arg.offset;
      vj["size"] = v.arg.size;
      tj["variables"].push_back(std::move(vj));
    }
    j["templates"].push_back(std::move(tj));
  }
  return j;
}

// How often the template's ops appear: before its boundary (no
// occurrences), then its occurrences, the confirming ones and the rest.
void print_occurrences(const TemplateReport& t) {
  const uint64_t after = t.occurrences - t.confirming;
  const std::string split = fmt::format("{} that confirmed it + {} matched after", t.confirming, after);
  if (t.before_boundary == 0) {
    fmt::print("  {} occurrences: {}\n", t.occurrences, split);
    return;
  }
  const uint64_t first = t.boundary - t.before_boundary * t.length;
  fmt::print("  {} copies of its ops: {} before its boundary + {} occurrences from it ({})\n",
             t.before_boundary + t.occurrences, t.before_boundary, t.occurrences, split);
  fmt::print("  ops {}..{}, before the boundary, are its ops but no occurrence: their upload came after another\n"
             "    upload, not after a copy back, so no iteration starts there\n",
             first, t.boundary - 1);
}

void print_template(const TemplateReport& t) {
  fmt::print("template {}: {} ops, boundary {}, confirmed at op {} ({} ops consumed), broken {}\n", t.id, t.length,
             t.boundary, t.confirmed_at, t.ops_consumed, t.broken);
  print_occurrences(t);
  constexpr size_t kShown = 20;
  fmt::print("  {} variable arguments\n", t.variables.size());
  for (size_t i = 0; i < t.variables.size() && i < kShown; ++i)
    fmt::print("    op {:>5}: {}\n", t.variables[i].arg.position, describe(t.variables[i]));
  if (t.variables.size() > kShown) fmt::print("    ... and {} more (--json lists all)\n", t.variables.size() - kShown);
}

void print_text(const std::string& path, const SearchResult& r) {
  fmt::print("{}: {} ops\n", path, r.ops);
  if (r.templates.empty()) {
    fmt::print("no repeating iteration found\n");
    return;
  }
  fmt::print("prefix: {} ops before the first confirmed iteration", r.prefix_length);
  for (const TemplateReport& t : r.templates) {
    if (t.id != r.iteration || t.boundary != r.prefix_length || t.before_boundary == 0) continue;
    fmt::print(": the first {}, then {} of the iteration that {} no occurrence (see template {})",
               r.prefix_length - t.before_boundary * t.length,
               t.before_boundary == 1 ? std::string("1 copy") : fmt::format("{} copies", t.before_boundary),
               t.before_boundary == 1 ? "is" : "are", t.id);
  }
  fmt::print("\n");
  fmt::print("iteration: {} ops, boundary at op {} (template {})\n", r.iteration_length, r.boundary, r.iteration);
  fmt::print("matched: {} ops ({:.1f}%), {} times broken\n", r.matched_ops,
             r.ops ? 100.0 * static_cast<double>(r.matched_ops) / static_cast<double>(r.ops) : 0.0, r.broken_events);
  for (const TemplateReport& t : r.templates) print_template(t);
}

}  // namespace

int run_search(const Args& args) {
  if (args.positional.size() != 1) {
    fmt::print(stderr, "usage: rrto-trace search FILE [--json] [--repeats N] [--history OPS]\n");
    return kExitUsage;
  }
  MatcherConfig config;
  if (const std::string* v = args.option("--repeats"); v && !parse_u32(*v, config.confirm_repeats)) {
    fmt::print(stderr, "rrto-trace: --repeats wants a number, not '{}'\n", *v);
    return kExitUsage;
  }
  if (const std::string* v = args.option("--history"); v && !parse_u32(*v, config.history_ops)) {
    fmt::print(stderr, "rrto-trace: --history wants a number, not '{}'\n", *v);
    return kExitUsage;
  }
  const std::string& path = args.positional[0];
  Trace trace;
  if (!load_trace(path, trace)) return kExitBadFile;
  const SearchResult r = search(trace.ops(), config);
  if (args.json) {
    fmt::print("{}\n", to_json(path, r).dump(2));
  } else {
    print_text(path, r);
  }
  return kExitOk;
}

}  // namespace rrto::trace_tool
