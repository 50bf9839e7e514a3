#include "common/log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <unistd.h>

namespace rrto::log {
namespace {

// Unset: errors only, so a normal run prints nothing but a failure says why.
Level parse_level(const char* s) {
  if (!s || !*s) return Level::Error;
  if (!strcasecmp(s, "error")) return Level::Error;
  if (!strcasecmp(s, "warn")) return Level::Warn;
  if (!strcasecmp(s, "info")) return Level::Info;
  if (!strcasecmp(s, "debug")) return Level::Debug;
  if (!strcasecmp(s, "trace")) return Level::Trace;
  if (!strcasecmp(s, "off") || !strcmp(s, "0")) return Level::Off;
  return Level::Info;  // any other non-empty value: a sensible default
}

std::atomic<int>& current() {
  static std::atomic<int> l{static_cast<int>(parse_level(std::getenv("RRTO_LOG")))};
  return l;
}

const char* level_name(Level l) {
  switch (l) {
    case Level::Error: return "error";
    case Level::Warn: return "warn";
    case Level::Info: return "info";
    case Level::Debug: return "debug";
    case Level::Trace: return "trace";
    default: return "";
  }
}

}  // namespace

Level level() { return static_cast<Level>(current().load(std::memory_order_relaxed)); }
void set_level(Level l) { current().store(static_cast<int>(l), std::memory_order_relaxed); }

void write(Level l, std::string_view component, std::string_view message) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  localtime_r(&ts.tv_sec, &t);
  // One fwrite per line so lines from several threads do not interleave.
  std::string line = fmt::format("[{:02}:{:02}:{:02}.{:03} rrto {} {} {}] {}\n", t.tm_hour, t.tm_min,
                                 t.tm_sec, ts.tv_nsec / 1000000, getpid(), component, level_name(l), message);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace rrto::log
