// rrto-perftest run without a server hostname: the raw UCX tests' server,
// plus an rrto-server for the RRTO tests (started here, or named by --server).
#pragma once

#include "perf/perftest/options.h"

namespace rrto::perf {

// Serves until SIGINT or SIGTERM; returns the exit code.
int run_server_side(const Options& options);

}  // namespace rrto::perf
