// rrto-perftest: ucx_perftest's shape for RRTO. See perf/README.md.
//
//   rrto-perftest [options]                   the server side
//   rrto-perftest HOST -t TEST [options]      the client side
#include <cstdio>

#include <fmt/format.h>

#include "perf/perftest/client_side.h"
#include "perf/perftest/options.h"
#include "perf/perftest/server_side.h"

int main(int argc, char** argv) {
  rrto::perf::Options options;
  std::string error;
  if (!rrto::perf::parse_options(argc, argv, options, error)) {
    fmt::print(stderr, "rrto-perftest: {}\n", error);
    return 2;
  }
  if (options.help) {
    fmt::print("{}", rrto::perf::usage());
    return 0;
  }
  return options.client() ? rrto::perf::run_client_side(options) : rrto::perf::run_server_side(options);
}
