#include "perf/workloads/reporter.h"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

namespace rrto::perf {

Reporter::Reporter(int fd) : fd_(fcntl(fd, F_GETFD) == -1 ? STDOUT_FILENO : fd) {}

void Reporter::ready() { line("ready"); }
void Reporter::sample(uint64_t ns, double ended_s) { line(fmt::format("sample {} at {:.6f} s", ns, ended_s)); }
void Reporter::compute(uint64_t ns) { line(fmt::format("compute {}", ns)); }

void Reporter::done(uint64_t iterations, uint64_t wall_ns, uint64_t up, uint64_t down, uint64_t checksum) {
  line(fmt::format("done iterations={} wall={} up={} down={} checksum={:016x}", iterations, wall_ns, up, down,
                   checksum));
}

void Reporter::error(const std::string& text) {
  std::string one_line = text;
  for (char& c : one_line)
    if (c == '\n') c = ' ';
  line("error " + one_line);
}

void Reporter::line(const std::string& text) {
  const std::string out = text + "\n";
  size_t at = 0;
  while (at < out.size()) {
    const ssize_t n = ::write(fd_, out.data() + at, out.size() - at);
    if (n <= 0) return;  // the parent went away; nothing to tell
    at += static_cast<size_t>(n);
  }
}

}  // namespace rrto::perf
