// Runs rrto-perf-workload once, as an ordinary CUDA program through RRTO's
// libcuda.so.1 in one client mode, and collects what it measured (its report
// lines) and what the client library counted (its RRTO_STATS line).
//
// One process per run: the client library reads its mode and link once, at
// cuInit.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace rrto::perf {

struct WorkloadRun {
  std::string program{};      // rrto-perf-workload
  std::string library_dir{};  // where RRTO's libcuda.so.1 is
  std::string workload{};
  size_t size = 0;
  std::string mode{};    // RRTO_MODE
  std::string server{};  // RRTO_SERVER, host:port
  std::string link{};    // RRTO_LINK ("" = off)
  uint64_t iterations = 0, warmup = 0, min_iterations = 3;
  double max_seconds = 0;
  bool events = false;
  bool changing_scalar = false;
  std::optional<uint32_t> kernel_us{};  // sleep: the kernel's duration (unset: the workload's default)
  // The child waits after set-up and warm-up until on_ready has returned
  // (rrto-perf-workload --start-fd), so that several clients can start their
  // measured iterations together.
  bool gated = false;
};

// The client library's RRTO_STATS line.
struct ClientCounts {
  bool present = false;
  std::string transport{}, link{};
  uint64_t round_trips = 0, remote_calls = 0, bytes_up = 0, bytes_down = 0;
};

struct WorkloadOutcome {
  enum class Result { Ok, NotAvailable, Failed };
  Result result = Result::Failed;
  std::string reason{};  // NotAvailable, Failed: why, in one line
  uint64_t iterations = 0;
  uint64_t wall_ns = 0;  // the measured iterations, as the program timed them
  uint64_t payload_up = 0, payload_down = 0;
  std::string checksum{};
  std::vector<uint64_t> compute_ns{};
  ClientCounts counts{};
};

// `on_ready`: set-up and warm-up are done (with `gated`, the measured
// iterations begin when it returns); `on_sample`: one measured iteration, in
// ns. Both run on the caller's thread, as the lines arrive.
WorkloadOutcome run_workload(const WorkloadRun& run, const std::function<void()>& on_ready,
                             const std::function<void(uint64_t)>& on_sample);

}  // namespace rrto::perf
