// rrto-perftest with a server hostname (or --server): runs one test, prints
// its tables (or --json) and returns the exit code.
#pragma once

#include "perf/perftest/options.h"

namespace rrto::perf {

int run_client_side(const Options& options);

}  // namespace rrto::perf
