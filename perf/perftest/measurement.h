// The samples of one run and what the table shows of them.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

namespace rrto::perf {

struct Summary {
  uint64_t iterations = 0;
  double percentile_us = 0;  // at the chosen rank (-R)
  double p99_us = 0;
  double average_us = 0;     // mean of the samples
  double overall_us = 0;     // wall time / iterations, gaps between iterations included
  double min_us = 0, max_us = 0;
  double bandwidth_average = 0, bandwidth_overall = 0;  // MiB/s ("MB/s", as ucx_perftest)
  double rate_average = 0, rate_overall = 0;            // iterations per second
};

class Measurement {
 public:
  Measurement(uint64_t bytes_per_iteration, double rank);

  void start();
  void add(uint64_t ns);
  void finish();
  // The run's wall time as the measuring process saw it (another process's
  // clock is better than when its lines happened to arrive here).
  void finish(std::chrono::nanoseconds wall);

  // A periodic row is due once a second, as in ucx_perftest.
  bool report_due() const;
  // The samples since the last interval (percentile, average) against the
  // whole run so far (overall).
  Summary take_interval();
  Summary total() const;
  const std::vector<uint64_t>& samples() const { return samples_; }

 private:
  using clock = std::chrono::steady_clock;
  Summary summarise(size_t from, clock::time_point end) const;

  uint64_t bytes_;
  double rank_;
  std::vector<uint64_t> samples_{};
  clock::time_point start_{}, end_{}, last_report_{};
  size_t interval_start_ = 0;
  bool finished_ = false;
};

// Nearest-rank percentile of `values` (sorted in place), in the same unit.
double percentile(std::vector<uint64_t>& values, double rank);

}  // namespace rrto::perf
