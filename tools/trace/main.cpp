// rrto-trace: look into RRTO trace files (written by the client when
// RRTO_TRACE=path is set) and make synthetic ones.
#include <fmt/core.h>

#include <cstdio>
#include <string_view>

#include "recorder/trace_reader.h"
#include "tools/trace/commands.h"

namespace rrto::trace_tool {

namespace {

constexpr const char* kUsage = R"(usage: rrto-trace COMMAND [options]

  stats  FILE [--json]             ops, ops per kind, distinct kernels, the
                                   most launched ones (demangled)
  search FILE [--json]             run the Operator Sequence Search offline:
         [--repeats N]               initialisation prefix, iteration length,
         [--history OPS]             boundary, variable arguments, templates
                                     and their occurrences
  gen    OUT [options]             write a synthetic trace:
         --model M[:BATCH][,M...]    resnet50, bert, detector (alternated), or
                                     random (with --ops N)
         --iterations N --seed S --noise --pointer-changes --changing-scalar

exit status: 0 ok, 1 bad usage, 2 unreadable or invalid trace file
)";

// Options that take a value; the rest are flags.
bool takes_value(std::string_view name) {
  for (const char* n : {"--repeats", "--history", "--model", "--iterations", "--seed", "--ops"}) {
    if (name == n) return true;
  }
  return false;
}

}  // namespace

const std::string* Args::option(const std::string& name) const {
  for (auto it = options.rbegin(); it != options.rend(); ++it) {
    if (it->first == name) return &it->second;
  }
  return nullptr;
}

bool load_trace(const std::string& path, Trace& out) {
  TraceReader reader;
  if (reader.read_file(path, out) == Status::Ok) return true;
  fmt::print(stderr, "rrto-trace: {}\n", reader.error());
  return false;
}

int run(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "{}", kUsage);
    return kExitUsage;
  }
  const std::string_view command = argv[1];
  if (command == "-h" || command == "--help" || command == "help") {
    fmt::print("{}", kUsage);
    return kExitOk;
  }
  Args args;
  for (int i = 2; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--json") {
      args.json = true;
    } else if (a.starts_with("--") && takes_value(a)) {
      if (i + 1 >= argc) {
        fmt::print(stderr, "rrto-trace: {} needs a value\n", a);
        return kExitUsage;
      }
      args.options.emplace_back(std::string(a), argv[++i]);
    } else if (a.starts_with("--")) {
      args.options.emplace_back(std::string(a), "");
    } else {
      args.positional.emplace_back(a);
    }
  }
  if (command == "stats") return run_stats(args);
  if (command == "search") return run_search(args);
  if (command == "gen") return run_gen(args);
  fmt::print(stderr, "rrto-trace: unknown command '{}'\n{}", command, kUsage);
  return kExitUsage;
}

}  // namespace rrto::trace_tool

int main(int argc, char** argv) { return rrto::trace_tool::run(argc, argv); }
