// rrto-soak-intruder: the soak test's misbehaving client (perf/README.md,
// "The soak test"). Until --duration has passed (or SIGTERM), it tries the
// kinds of attempts.h in turn, each on a fresh connection, and one idle
// connection after another; then it prints its counts as one JSON document.
//
//   rrto-soak-intruder --server HOST:PORT [--key KEY] [--duration S] [--max-message-mb M]
//                      [--hello-timeout-s T] [--pause-ms P] [--seed N] [--runaway-grid]
//
// Exit status: 0 every attempt was refused, 1 one was not (served, not tried,
// or the server went away), 3 bad usage.
#include <csignal>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "perf/soak/attempts.h"
#include "perf/soak/tally.h"

#ifdef RRTO_SOAK_CNN_FATBIN
extern "C" const unsigned char rrto_cnn_fatbin[];
#endif

namespace {

using namespace rrto::soak;
using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t g_stop = 0;

struct Options {
  Target target;
  double duration_s = 60;
  uint64_t max_message_mb = 1024;
  int hello_timeout_s = 10;
  int pause_ms = 100;
  uint64_t seed = 1;
  bool runaway_grid = false;
};

int usage() {
  std::fprintf(stderr,
               "usage: rrto-soak-intruder --server HOST:PORT [--key KEY] [--duration S] [--max-message-mb M]\n"
               "                          [--hello-timeout-s T] [--pause-ms P] [--seed N] [--runaway-grid]\n");
  return 3;
}

// -1: parsed; otherwise the exit status.
int parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--runaway-grid") {
      o.runaway_grid = true;
      continue;
    }
    if (i + 1 >= argc) return usage();
    const char* value = argv[++i];
    if (arg == "--server") {
      const std::string address = value;
      const size_t colon = address.rfind(':');
      if (colon == std::string::npos) return usage();
      o.target.host = address.substr(0, colon);
      o.target.port = static_cast<uint16_t>(std::atoi(address.c_str() + colon + 1));
    } else if (arg == "--key") o.target.key = value;
    else if (arg == "--duration") o.duration_s = std::atof(value);
    else if (arg == "--max-message-mb") o.max_message_mb = std::strtoull(value, nullptr, 10);
    else if (arg == "--hello-timeout-s") o.hello_timeout_s = std::atoi(value);
    else if (arg == "--pause-ms") o.pause_ms = std::atoi(value);
    else if (arg == "--seed") o.seed = std::strtoull(value, nullptr, 10);
    else return usage();
  }
  return o.target.port == 0 ? usage() : -1;
}

bool image_of_kernels(rrto::ModuleImage& out) {
#ifdef RRTO_SOAK_CNN_FATBIN
  return ok(rrto::parse_module_image(rrto_cnn_fatbin, SIZE_MAX, out));
#else
  return false;
#endif
}

void run(const Options& o, Tally& tally) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(o.duration_s);
  auto running = [&] { return !g_stop && Clock::now() < deadline; };
  // A closed connection is a refusal only if the server is still there.
  auto record = [&](const char* kind, Outcome outcome) {
    tally.add(kind, outcome == Outcome::Closed && !Peer::reachable(o.target) ? Outcome::ServerGone : outcome);
  };
  std::thread idle([&] {
    while (running()) record("idle_connection", idle_connection(o.target, o.hello_timeout_s));
  });
  rrto::ModuleImage image;
  Context context{.target = o.target, .max_message_bytes = o.max_message_mb << 20,
                  .image = image_of_kernels(image) ? &image : nullptr, .rng = std::mt19937_64(o.seed)};
  while (running()) {
    for (const Attempt& a : attempts()) {
      if ((a.needs_key && o.target.key.empty()) || (a.needs_image && !context.image) || !running()) continue;
      record(a.name, a.run(context));
      std::this_thread::sleep_for(std::chrono::milliseconds(o.pause_ms));
    }
    if (o.runaway_grid && running()) record("runaway_grid", runaway_grid(context));
  }
  idle.join();
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (const int status = parse(argc, argv, options); status >= 0) return status;
  std::signal(SIGTERM, [](int) { g_stop = 1; });
  std::signal(SIGINT, [](int) { g_stop = 1; });
  Tally tally;
  run(options, tally);
  const nlohmann::json counts = tally.json();
  std::printf("%s\n", counts.dump().c_str());
  return counts["refused"] == counts["attempts"] ? 0 : 1;
}
