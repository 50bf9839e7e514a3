// The tests rrto-perftest knows: what each measures, how, and its defaults.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rrto::perf {

enum class TestKind {
  RawLatency,    // plain UCX active messages, ping-pong
  RawBandwidth,  // plain UCX active messages, streamed
  RpcLatency,    // a null request through the RRTO protocol and server
  Workload,      // rrto-perf-workload through the client library, per mode
};

struct TestInfo {
  const char* name;
  const char* description;
  TestKind kind;
  bool bandwidth;                     // the latency columns read "overhead", as in ucx_perftest
  std::vector<size_t> default_sizes;  // empty: the test takes no size
  uint64_t default_iterations;
  uint64_t default_warmup;
  std::vector<std::string> default_modes;  // Workload tests: client modes to run
  std::vector<std::string> default_workloads;
};

std::span<const TestInfo> tests();
const TestInfo* find_test(std::string_view name);

// The client modes rrto-perftest knows of, in report order. `ideal` is the
// non-transparent baseline (inputs up, one call, outputs down); a mode the
// client library does not accept is reported as not available.
const std::vector<std::string>& known_modes();

}  // namespace rrto::perf
