// rrto-perf-workload: the CUDA program rrto-perftest times. An ordinary
// driver-API program (linked against libcuda.so.1, no RPATH): rrto-perftest
// runs it once per client mode with RRTO's libcuda.so.1 on LD_LIBRARY_PATH,
// RRTO_MODE set, and reads what it measured from --report-fd (reporter.h).
// With RRTO_MODE=ideal it speaks to RRTO_SERVER itself instead (driver.h), and
// with RRTO_STATS prints its own counts line as the client library would.
//
//   rrto-perf-workload WORKLOAD [--size BYTES] [--kernel-us US] [--iterations N]
//                      [--warmup N] [--max-seconds S] [--min-iterations N]
//                      [--events] [--changing-scalar] [--report-fd FD]
//                      [--start-fd FD]
//
// Exit status: 0 done, 2 a CUDA call failed, 3 bad usage, 4 cuInit refused
// (with RRTO: the client does not accept its configuration, e.g. the mode).
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "perf/workloads/reporter.h"
#include "perf/workloads/workload.h"

namespace {

using namespace rrto::perf;

constexpr int kExitOk = 0, kExitCuda = 2, kExitUsage = 3, kExitRefused = 4;
// Warm-up iterations get inputs of their own, so that measured iteration i
// has the same inputs (and outputs) whatever the warm-up.
constexpr uint64_t kWarmupInputs = 1ull << 40;

struct Options {
  WorkloadOptions workload;
  uint64_t iterations = 100;
  uint64_t warmup = 3;
  double max_seconds = 0;  // 0: no limit
  uint64_t min_iterations = 3;
  bool events = false;
  int report_fd = 3;
  // Set: after set-up and warm-up ("ready"), wait for a byte or end of file
  // here before the measured iterations, so that several clients measure
  // together.
  int start_fd = -1;
};

int usage(const std::string& problem) {
  if (!problem.empty()) fmt::print(stderr, "rrto-perf-workload: {}\n", problem);
  fmt::print(stderr,
             "usage: rrto-perf-workload WORKLOAD [--size BYTES] [--kernel-us US] [--iterations N] [--warmup N]\n"
             "                          [--max-seconds S] [--min-iterations N] [--events] [--changing-scalar]\n"
             "                          [--report-fd FD] [--start-fd FD]\n"
             "workloads: {}\n",
             fmt::join(workload_names(), ", "));
  return problem.empty() ? kExitOk : kExitUsage;
}

bool parse_number(const char* text, uint64_t& out) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || errno != 0 || text[0] == '-') return false;
  out = v;
  return true;
}

int parse(int argc, char** argv, Options& o) {
  if (argc < 2) return usage("no workload given");
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&](uint64_t& out) {
      if (i + 1 >= argc || !parse_number(argv[i + 1], out)) return false;
      ++i;
      return true;
    };
    uint64_t n = 0;
    if (arg == "-h" || arg == "--help") return usage("");
    if (arg == "--events") {
      o.events = true;
    } else if (arg == "--changing-scalar") {
      o.workload.changing_scalar = true;
    } else if (arg == "--size") {
      if (!value(n)) return usage("--size needs a number of bytes");
      o.workload.size = n;
    } else if (arg == "--kernel-us") {
      if (!value(n) || n > INT32_MAX) return usage("--kernel-us needs a number of microseconds");
      o.workload.kernel_us = static_cast<uint32_t>(n);
    } else if (arg == "--iterations") {
      if (!value(o.iterations)) return usage("--iterations needs a number");
    } else if (arg == "--warmup") {
      if (!value(o.warmup)) return usage("--warmup needs a number");
    } else if (arg == "--min-iterations") {
      if (!value(o.min_iterations)) return usage("--min-iterations needs a number");
    } else if (arg == "--report-fd" || arg == "--start-fd") {
      if (!value(n) || n > 1024) return usage(fmt::format("{} needs a file descriptor", arg));
      (arg == "--report-fd" ? o.report_fd : o.start_fd) = static_cast<int>(n);
    } else if (arg == "--max-seconds") {
      char* end = nullptr;
      if (i + 1 >= argc || (o.max_seconds = std::strtod(argv[i + 1], &end), *end != '\0') || !(o.max_seconds >= 0))
        return usage("--max-seconds needs a number of seconds");
      ++i;
    } else if (!arg.empty() && arg[0] != '-' && o.workload.name.empty()) {
      o.workload.name = std::string(arg);
    } else {
      return usage(fmt::format("unknown argument '{}'", arg));
    }
  }
  if (o.workload.name.empty()) return usage("no workload given");
  return -1;
}

void wait_for_start(int fd) {
  char byte = 0;
  while (::read(fd, &byte, 1) < 0 && errno == EINTR) {
  }
}

int run(const Options& o) {
  using clock = std::chrono::steady_clock;
  Reporter report(o.report_fd);
  std::string problem;
  std::unique_ptr<Workload> workload = make_workload(o.workload, problem);
  if (!workload) return usage(problem);

  const char* mode = std::getenv("RRTO_MODE");
  const std::unique_ptr<Driver> device =
      mode && std::string_view(mode) == "ideal" ? make_ideal_driver() : make_cuda_driver();
  Driver& driver = *device;
  // As the client library's, at exit (run() returns from several places).
  struct StatsAtExit {
    const Driver& driver;
    ~StatsAtExit() {
      const char* stats = std::getenv("RRTO_STATS");
      const std::string line = driver.stats_line();
      if (stats && *stats && std::string_view(stats) != "0" && !line.empty()) fmt::print(stderr, "{}\n", line);
    }
  } stats_at_exit{driver};
  auto iteration = [&](uint64_t i, uint64_t* compute_ns) {
    return driver.begin_iteration() && workload->run(i, compute_ns) && driver.end_iteration();
  };
  if (!driver.init()) {
    report.error(driver.error());
    return driver.init_refused() ? kExitRefused : kExitCuda;
  }
  if (!workload->setup(driver)) {
    report.error(driver.error());
    return kExitCuda;
  }
  for (uint64_t i = 0; i < o.warmup; ++i) {
    workload->prepare(kWarmupInputs + i);
    if (!iteration(kWarmupInputs + i, nullptr)) {
      report.error(driver.error());
      return kExitCuda;
    }
  }
  workload->reset_checksum();
  report.ready();
  if (o.start_fd >= 0) wait_for_start(o.start_fd);

  const auto start = clock::now();
  auto end = start;
  uint64_t done = 0;
  while (done < o.iterations) {
    const uint64_t i = done;
    workload->prepare(i);
    uint64_t compute_ns = 0;
    const auto t0 = clock::now();
    if (!iteration(i, o.events ? &compute_ns : nullptr)) {
      report.error(driver.error());
      return kExitCuda;
    }
    const auto t1 = end = clock::now();
    report.sample(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()),
                  std::chrono::duration<double>(t1.time_since_epoch()).count());
    if (o.events) report.compute(compute_ns);
    ++done;
    const double elapsed = std::chrono::duration<double>(t1 - start).count();
    if (o.max_seconds > 0 && elapsed >= o.max_seconds && done >= o.min_iterations) break;
  }
  const auto wall = std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count();
  report.done(done, static_cast<uint64_t>(wall), workload->payload_up(), workload->payload_down(),
              workload->checksum());
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (const int rc = parse(argc, argv, options); rc >= 0) return rc;
  return run(options);
}
