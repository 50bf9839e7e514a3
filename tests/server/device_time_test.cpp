// The host backend's simulated device time: the durations it computes (no
// test here waits or measures a clock).
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>

#include "server/host/device_time.h"

using rrto::server::host::DeviceTimeModel;
using namespace std::chrono_literals;

TEST_CASE("a launch of G blocks lasts G x the time scale") {
  const DeviceTimeModel model(2.0);
  CHECK(model.enabled());
  CHECK(model.launch_duration(1) == 2us);
  CHECK(model.launch_duration(1000) == 2ms);
  CHECK(model.launch_duration(8 * 4 * 2) == 128us);
  CHECK(model.launch_duration(0) == 0ns);
  CHECK(DeviceTimeModel(0.5).launch_duration(3) == 1500ns);
  CHECK(DeviceTimeModel(0.0015).launch_duration(1) == 2ns);  // rounded to the nanosecond
}

TEST_CASE("the CPU version's own time counts towards the hold, which is never negative") {
  const DeviceTimeModel model(10.0);
  CHECK(model.remaining_hold(100, 0ns) == 1ms);
  CHECK(model.remaining_hold(100, 400us) == 600us);
  CHECK(model.remaining_hold(100, 1ms) == 0ns);
  CHECK(model.remaining_hold(100, 5ms) == 0ns);
}

TEST_CASE("time scale 0 is off: no hold") {
  const DeviceTimeModel off;
  CHECK_FALSE(off.enabled());
  CHECK(off.launch_duration(1u << 20) == 0ns);
  CHECK(off.remaining_hold(1u << 20, 0ns) == 0ns);
}

TEST_CASE("a huge grid saturates instead of wrapping") {
  const DeviceTimeModel model(1e6);
  CHECK(model.launch_duration(UINT64_MAX) == std::chrono::nanoseconds::max());
  CHECK(model.remaining_hold(UINT64_MAX, 1s) > 0ns);
}
