#include "perf/perftest/measurement.h"

#include <algorithm>
#include <cmath>

namespace rrto::perf {
namespace {

constexpr auto kReportInterval = std::chrono::seconds(1);
constexpr double kMiB = 1024.0 * 1024.0;

}  // namespace

double percentile(std::vector<uint64_t>& values, double rank) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto n = static_cast<double>(values.size());
  size_t index = static_cast<size_t>(std::ceil(rank / 100.0 * n));
  index = std::clamp<size_t>(index, 1, values.size()) - 1;
  return static_cast<double>(values[index]);
}

Measurement::Measurement(uint64_t bytes_per_iteration, double rank) : bytes_(bytes_per_iteration), rank_(rank) {}

void Measurement::start() { start_ = last_report_ = clock::now(); }

void Measurement::add(uint64_t ns) { samples_.push_back(ns); }

void Measurement::finish() {
  end_ = clock::now();
  finished_ = true;
}

void Measurement::finish(std::chrono::nanoseconds wall) {
  end_ = start_ + wall;
  finished_ = true;
}

bool Measurement::report_due() const { return clock::now() - last_report_ >= kReportInterval; }

Summary Measurement::take_interval() {
  const auto now = clock::now();
  Summary interval = summarise(interval_start_, now);
  const Summary whole = summarise(0, now);
  interval.iterations = whole.iterations;
  interval.overall_us = whole.overall_us;
  interval.bandwidth_overall = whole.bandwidth_overall;
  interval.rate_overall = whole.rate_overall;
  interval_start_ = samples_.size();
  last_report_ = now;
  return interval;
}

Summary Measurement::total() const { return summarise(0, finished_ ? end_ : clock::now()); }

Summary Measurement::summarise(size_t from, clock::time_point end) const {
  Summary s;
  s.iterations = samples_.size();
  if (from >= samples_.size()) return s;
  std::vector<uint64_t> v(samples_.begin() + static_cast<std::ptrdiff_t>(from), samples_.end());
  double sum = 0;
  for (uint64_t x : v) sum += static_cast<double>(x);
  s.average_us = sum / static_cast<double>(v.size()) / 1e3;
  s.percentile_us = percentile(v, rank_) / 1e3;  // sorts v
  s.p99_us = percentile(v, 99.0) / 1e3;
  s.min_us = static_cast<double>(v.front()) / 1e3;
  s.max_us = static_cast<double>(v.back()) / 1e3;
  const double wall_us = std::chrono::duration<double, std::micro>(end - start_).count();
  s.overall_us = s.iterations ? wall_us / static_cast<double>(s.iterations) : 0;
  if (s.average_us > 0) {
    s.bandwidth_average = static_cast<double>(bytes_) / kMiB / (s.average_us / 1e6);
    s.rate_average = 1e6 / s.average_us;
  }
  if (s.overall_us > 0) {
    s.bandwidth_overall = static_cast<double>(bytes_) / kMiB / (s.overall_us / 1e6);
    s.rate_overall = 1e6 / s.overall_us;
  }
  return s;
}

}  // namespace rrto::perf
