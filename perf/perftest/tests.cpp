#include "perf/perftest/tests.h"

#include <array>

namespace rrto::perf {
namespace {

constexpr size_t KiB = 1024, MiB = 1024 * KiB;

const std::vector<TestInfo>& catalogue() {
  static const std::vector<TestInfo> all = {
      {"raw_am_lat", "UCX active message round trip, no RRTO protocol (the floor of rpc_lat)", TestKind::RawLatency,
       false, {8}, 10000, 1000, {}, {}},
      {"raw_am_bw", "UCX active message bandwidth, no RRTO protocol (the floor of memcpy_bw)", TestKind::RawBandwidth,
       true, {64 * KiB, 1 * MiB, 4 * MiB}, 200, 10, {}, {}},
      {"rpc_lat", "null request/response through the RRTO protocol and rrto-server", TestKind::RpcLatency, false, {},
       10000, 1000, {}, {}},
      {"launch_lat", "one kernel launch + stream synchronise, through the client library, per mode",
       TestKind::Workload, false, {}, 1000, 100, {"rpc", "async", "replay", "ideal"}, {"launch"}},
      {"memcpy_bw", "synchronous host-to-device and device-to-host copies by size, through the client library",
       TestKind::Workload, true, {64 * KiB, 1 * MiB, 4 * MiB}, 100, 5, {"rpc"}, {"htod", "dtoh"}},
      {"infer_lat", "per-inference latency of a workload through the client library, per mode", TestKind::Workload,
       false, {}, 100, 10, {"rpc", "async", "replay", "ideal"}, {"cnn", "resnet50", "bert"}},
  };
  return all;
}

}  // namespace

std::span<const TestInfo> tests() { return catalogue(); }

const TestInfo* find_test(std::string_view name) {
  for (const TestInfo& t : catalogue())
    if (name == t.name) return &t;
  return nullptr;
}

const std::vector<std::string>& known_modes() {
  static const std::vector<std::string> modes = {"rpc", "async", "replay", "ideal"};
  return modes;
}

}  // namespace rrto::perf
