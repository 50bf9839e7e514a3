// What one run of a test measured, for the table's extra line and --json.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "perf/perftest/measurement.h"

namespace rrto::perf {

// infer_lat --clients: what each client measured and what they did together.
struct ClientsRecord {
  struct PerClient {
    Summary summary{};  // over its own measured wall time
    double p50_us = 0;
    double per_second = 0;  // its iterations / its own measured wall time
  };
  std::vector<PerClient> per_client{};
  double window_s = 0;              // common start to the last client's last iteration
  double aggregate_per_second = 0;  // all clients' iterations / window_s
  double spread = 0;                // max / min of per_second
  std::optional<uint32_t> devices{};      // the server side's host devices, when it said
  std::optional<double> time_scale_us{};  // and their simulated time per thread block
  // Each device's busy time while the clients ran (from the server's status
  // endpoint, when the server side started it with one).
  std::optional<std::vector<double>> device_busy_s{};

  nlohmann::json to_json() const;
  // [{device, busy_s, fraction of window_s}], or null when not measured.
  nlohmann::json busy_json() const;
  // "Clients: ..." under the rows.
  std::string summary_line() const;
};

struct RunRecord {
  std::string name{};  // the row's name: "rpc resnet50", "htod 4194304"...
  std::string mode{}, workload{};
  size_t size = 0;
  bool available = true;
  bool failed = false;
  std::string reason{};  // not available / failed: why
  uint64_t warmup = 0;
  Summary summary{};
  double p50_us = 0;
  std::string transport{};
  std::string client_link{};  // the link the client library reported (RRTO_STATS)
  // Per iteration, from the client library's counts (workload tests).
  std::optional<double> round_trips{}, bytes_up{}, bytes_down{};
  uint64_t payload_up = 0, payload_down = 0;  // the program's own inputs and outputs
  std::optional<double> server_compute_us{};
  std::optional<double> floor_us{};  // link RTT + payload / bandwidth + server compute
  std::string checksum{};
  std::optional<bool> outputs_match{};  // against the first mode that ran the same iterations
  std::optional<ClientsRecord> clients{};  // infer_lat --clients

  nlohmann::json to_json(double rank) const;
  // "Per iteration: ..." under a workload run's rows; empty when nothing to say.
  std::string counts_line() const;
};

// What the floor of the "Per iteration:" lines is, and what `ideal` measures
// and why it can be below the floor (when an ideal run is among `records`):
// lines to print once under all of a run's tables; none when no record has
// a floor.
std::vector<std::string> floor_explanation(std::span<const RunRecord> records);

}  // namespace rrto::perf
