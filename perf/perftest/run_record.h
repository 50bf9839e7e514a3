// What one run of a test measured, for the table's extra line and --json.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "perf/perftest/measurement.h"

namespace rrto::perf {

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

  nlohmann::json to_json(double rank) const;
  // "Per iteration: ..." under a workload run's rows; empty when nothing to say.
  std::string counts_line() const;
};

}  // namespace rrto::perf
