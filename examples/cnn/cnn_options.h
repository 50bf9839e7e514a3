// The command line of the example CNN programs (driver and runtime API):
//   [--inferences N] [--batch B] [--quiet] [--timestamps] [--sync-then-copy]
// --sync-then-copy: synchronise the stream, then copy the output back with a
// synchronous copy (a common pattern), instead of an async copy followed by
// the synchronisation.
// --timestamps: each inference's line also says when it ended, in seconds of
// CLOCK_MONOTONIC (what scripts/cluster-demo compares with when it killed a
// server), and goes out at once, even into a pipe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

#include "examples/common/example_util.h"

namespace cnn {

struct Options {
  int inferences = 10;
  int batch = 1;
  bool quiet = false;
  bool timestamps = false;
  bool sync_then_copy = false;
};

// One inference's line: its latency and image 0's most likely class.
inline void print_inference(const Options& opt, int i, double ms, std::ptrdiff_t top, float p, bool exact) {
  if (opt.quiet) return;
  std::printf("inference %d: %.3f ms, image 0 -> class %td (p=%.4f)%s", i, ms, top, p, exact ? "" : " (within tolerance)");
  if (!opt.timestamps) {
    std::printf("\n");
    return;
  }
  std::printf(" at %.6f s\n", std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count());
  std::fflush(stdout);
}

inline int usage(const char* message) {
  if (message != nullptr) std::fprintf(stderr, "%s: %s\n", examples::program, message);
  std::fprintf(stderr, "usage: %s [--inferences N] [--batch B] [--quiet] [--timestamps] [--sync-then-copy]\n", examples::program);
  return 3;
}

// -1 to go on; otherwise the exit status (0 after --help, 3 for bad usage).
inline int parse_options(int argc, char** argv, Options& opt) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quiet" || arg == "-q") {
      opt.quiet = true;
    } else if (arg == "--timestamps") {
      opt.timestamps = true;
    } else if (arg == "--sync-then-copy") {
      opt.sync_then_copy = true;
    } else if (arg == "--inferences" || arg == "-n" || arg == "--batch" || arg == "-b") {
      if (i + 1 >= argc) return usage((arg + " needs a value").c_str());
      const bool batch = arg == "--batch" || arg == "-b";
      int value = 0;
      if (!examples::parse_positive(argv[++i], value, batch ? 4096 : 1 << 24))
        return usage((arg + ": not a number in range (batch: 1..4096)").c_str());
      (batch ? opt.batch : opt.inferences) = value;
    } else if (arg == "--help" || arg == "-h") {
      usage(nullptr);
      return 0;
    } else {
      return usage(("unknown option " + arg).c_str());
    }
  }
  return -1;
}

}  // namespace cnn
