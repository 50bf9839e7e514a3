// Simulated device time for the host backend: a kernel launch keeps its
// emulated device busy for a modelled duration, so that a scheduler over many
// devices can be measured on a machine with few cores and no GPU. The hold is
// a sleep: it occupies the device, not a CPU core.
#pragma once

#include <chrono>
#include <cstdint>

namespace rrto::server::host {

class DeviceTimeModel {
 public:
  // `time_scale_us` per thread block; 0 turns the model off.
  explicit DeviceTimeModel(double time_scale_us = 0) : time_scale_us_(time_scale_us) {}

  bool enabled() const { return time_scale_us_ > 0; }

  // How long a launch of `blocks` thread blocks lasts on the device.
  std::chrono::nanoseconds launch_duration(uint64_t blocks) const;

  // How much longer the device stays busy after the launch's CPU version took
  // `cpu_time`: launch_duration(blocks) - cpu_time, never negative.
  std::chrono::nanoseconds remaining_hold(uint64_t blocks, std::chrono::nanoseconds cpu_time) const;

 private:
  double time_scale_us_;
};

}  // namespace rrto::server::host
