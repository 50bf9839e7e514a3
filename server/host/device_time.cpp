#include "server/host/device_time.h"

#include <algorithm>
#include <cmath>

namespace rrto::server::host {

std::chrono::nanoseconds DeviceTimeModel::launch_duration(uint64_t blocks) const {
  // In double: 2^64 blocks at the largest scale would overflow nanoseconds,
  // so the result saturates rather than wraps.
  const double ns = std::round(static_cast<double>(blocks) * time_scale_us_ * 1e3);
  constexpr double kMax = static_cast<double>(std::chrono::nanoseconds::max().count());
  return std::chrono::nanoseconds(ns >= kMax ? std::chrono::nanoseconds::max().count() : static_cast<int64_t>(ns));
}

std::chrono::nanoseconds DeviceTimeModel::remaining_hold(uint64_t blocks, std::chrono::nanoseconds cpu_time) const {
  return std::max(launch_duration(blocks) - cpu_time, std::chrono::nanoseconds::zero());
}

}  // namespace rrto::server::host
