// rrto-trace subcommands. Each returns the process exit code: 0 success,
// 1 bad usage, 2 a trace file that cannot be read or written.
#pragma once

#include <string>
#include <vector>

#include "recorder/trace.h"

namespace rrto::trace_tool {

inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;
inline constexpr int kExitBadFile = 2;

struct Args {
  std::vector<std::string> positional;
  bool json = false;
  // --name value pairs, in order.
  std::vector<std::pair<std::string, std::string>> options;

  const std::string* option(const std::string& name) const;
};

// Reads `path` into `out`; on failure prints why to stderr and returns false.
bool load_trace(const std::string& path, Trace& out);

int run_stats(const Args& args);
int run_search(const Args& args);
int run_gen(const Args& args);

}  // namespace rrto::trace_tool
