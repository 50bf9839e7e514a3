// Several rrto-perf-workload processes at once, each its own client session:
// all set up and warm up, then start their measured iterations together, so
// that the server serves all of them for the whole measured window.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "perf/perftest/run_record.h"
#include "perf/perftest/workload_runner.h"

namespace rrto::perf {

struct ClientRun {
  WorkloadOutcome outcome{};
  std::vector<uint64_t> samples_ns{};  // its measured iterations, in order
};

struct ConcurrentOutcome {
  std::vector<ClientRun> clients{};
  // From the moment every client was released (all had set up and warmed up)
  // to the moment the last measured iteration of any client ended, as this
  // process saw the report lines arrive. Zero when no iteration ran.
  std::chrono::nanoseconds window{};
};

// Runs `count` copies of `run` (its `gated` is set here), each on a thread of
// its own. A client that ends before it is ready does not hold the others
// back. `on_start` is called once, when the clients are released;
// `on_sample(client, ns)` for every measured iteration, one call at a time.
ConcurrentOutcome run_concurrently(WorkloadRun run, uint32_t count, const std::function<void()>& on_start,
                                   const std::function<void(size_t, uint64_t)>& on_sample);

// Each client's latencies and throughput, and theirs together over `window`.
ClientsRecord summarise_clients(const ConcurrentOutcome& outcome, double rank);

}  // namespace rrto::perf
