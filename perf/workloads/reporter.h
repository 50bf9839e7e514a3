// How rrto-perf-workload tells rrto-perftest what it measured: one line per
// event on a file descriptor the parent chose (3 by default; stdout when
// that is not open), so that nothing the CUDA library prints can mix in.
//
//   ready                                  set-up done, measuring starts
//   sample <ns> at <s> s                   one measured iteration took this long, and ended
//                                          at <s> (seconds of CLOCK_MONOTONIC)
//   compute <ns>                           the server ran its kernels this long (--events)
//   done iterations=<n> wall=<ns> up=<bytes> down=<bytes> checksum=<hex>
//   error <text>
#pragma once

#include <cstdint>
#include <string>

namespace rrto::perf {

class Reporter {
 public:
  explicit Reporter(int fd);
  void ready();
  void sample(uint64_t ns, double ended_s);
  void compute(uint64_t ns);
  // `wall`: the measured iterations from the first start to the last end,
  // gaps included. `up`/`down`: the program's own payload per iteration.
  void done(uint64_t iterations, uint64_t wall_ns, uint64_t up, uint64_t down, uint64_t checksum);
  void error(const std::string& text);

 private:
  void line(const std::string& text);
  int fd_;
};

}  // namespace rrto::perf
