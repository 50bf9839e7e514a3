// rrto-perftest's command line, shaped like ucx_perftest's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rrto::perf {

inline constexpr uint16_t kDefaultPort = 13337;  // ucx_perftest's

struct Options {
  bool help = false;
  uint16_t port = kDefaultPort;

  // Client side.
  std::string peer;  // the rrto-perftest server: raw tests, and where its rrto-server is
  std::string test;
  std::vector<size_t> sizes;  // empty: the test's defaults
  std::optional<uint64_t> iterations, warmup;
  double percentile = 50.0;
  bool final_only = false;
  bool json = false;
  std::string link;    // link emulation spec (default: RRTO_LINK)
  std::string server;  // host:port of an rrto-server for the RRTO tests
  std::vector<std::string> modes;
  std::vector<std::string> workloads;
  double max_seconds = 0;  // 0: no limit; else stop a run after this long (at least 3 iterations)
  unsigned outstanding = 8;
  bool changing_scalar = false;
  std::optional<uint32_t> kernel_us;  // infer_lat --workload sleep: the kernel's duration
  std::optional<uint32_t> clients;    // infer_lat: this many workload processes at once

  // Server side.
  std::string listen = "0.0.0.0";
  bool shared_memory = false;  // local clients may use shared memory (both servers)
  std::string port_file;
  std::string backend;  // host | cuda (default: rrto-server's)
  std::string config;   // rrto-server config file
  // Both sides: the server side starts its rrto-server with this many host
  // devices; the client side requires the server side to have that many.
  std::optional<uint32_t> devices;
  std::optional<double> time_scale_us;  // server side: each host device's time_scale_us

  // A server hostname or a test makes the client side; --server alone is an
  // option of the server side.
  bool client() const { return !peer.empty() || !test.empty(); }
};

// False with `error` set on a bad command line.
bool parse_options(int argc, const char* const* argv, Options& out, std::string& error);

std::string usage();

}  // namespace rrto::perf
