// rrto-server: runs the CUDA calls of RRTO clients on this machine's devices.
// See server/README.md.
#include <cstdlib>

#include <fmt/format.h>

#include "common/log.h"
#include "server/app.h"
#include "server/options.h"

int main(int argc, char** argv) {
  // A server's log is its record of who used it: session starts and ends are
  // on by default.
  if (const char* level = std::getenv("RRTO_LOG"); !level || !*level) rrto::log::set_level(rrto::log::Level::Info);

  rrto::server::Options options;
  std::string error;
  switch (rrto::server::parse_options(argc, argv, options, error)) {
    case rrto::server::ParseOutcome::Help: fmt::print("{}", rrto::server::usage()); return rrto::server::kExitOk;
    case rrto::server::ParseOutcome::Error:
      fmt::print(stderr, "rrto-server: {}\n{}", error, rrto::server::usage());
      return rrto::server::kExitBadUsage;
    case rrto::server::ParseOutcome::Run: break;
  }
  if (!options.status.empty()) return rrto::server::print_status(options);
  return rrto::server::run_server(options);
}
