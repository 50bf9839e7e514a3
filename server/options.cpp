#include "server/options.h"

#include <string_view>

namespace rrto::server {

const char* usage() {
  return "usage: rrto-server [--config FILE] [--listen ADDR:PORT] [--backend host|cuda] [--port-file PATH]\n"
         "                   [--status-port-file PATH]\n"
         "                   [--insecure]\n"
         "       rrto-server --status HOST:PORT\n"
         "\n"
         "  --config FILE      server config (JSON, see config/README.md); without it, built-in defaults\n"
         "  --listen ADDR:PORT address to listen on, overrides the config (default 127.0.0.1:18515;\n"
         "                     port 0: any free port)\n"
         "  --backend NAME     host (emulated device on the CPU) or cuda (the GPUs), overrides the config\n"
         "  --port-file PATH   write the bound port to PATH once listening\n"
         "  --status-port-file PATH  write the status endpoint's bound port to PATH (needs status.listen)\n"
         "  --insecure         serve a non-loopback address without an auth key (anyone who reaches it)\n"
         "  --status HOST:PORT print the status of the server whose status endpoint is there, and exit\n"
         "  -h, --help         this text\n"
         "\n"
         "Environment: RRTO_LOG (error|warn|info|debug|trace; info by default), RRTO_LISTEN, RRTO_BACKEND,\n"
         "RRTO_HOST_KERNELS, RRTO_AUTH_KEY, RRTO_LINK, RRTO_STATUS_LISTEN. Stops on SIGINT or SIGTERM.\n";
}

ParseOutcome parse_options(int argc, const char* const* argv, Options& out, std::string& error) {
  struct Flag {
    std::string_view name;
    std::string* value;
  };
  const Flag flags[] = {{"--config", &out.config_path},
                        {"--listen", &out.listen},
                        {"--backend", &out.backend},
                        {"--port-file", &out.port_file},
                        {"--status-port-file", &out.status_port_file},
                        {"--status", &out.status}};
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") return ParseOutcome::Help;
    if (arg == "--insecure") {
      out.insecure = true;
      continue;
    }
    bool matched = false;
    for (const Flag& flag : flags) {
      if (arg == flag.name) {
        if (i + 1 >= argc) {
          error = std::string(flag.name) + " needs a value";
          return ParseOutcome::Error;
        }
        *flag.value = argv[++i];
        matched = true;
      } else if (arg.size() > flag.name.size() && arg.substr(0, flag.name.size()) == flag.name &&
                 arg[flag.name.size()] == '=') {
        *flag.value = std::string(arg.substr(flag.name.size() + 1));
        matched = true;
      }
      if (matched) break;
    }
    if (!matched) {
      error = "unknown argument '" + std::string(arg) + "'";
      return ParseOutcome::Error;
    }
  }
  if (!out.backend.empty() && out.backend != "host" && out.backend != "cuda") {
    error = "--backend must be host or cuda, not '" + out.backend + "'";
    return ParseOutcome::Error;
  }
  return ParseOutcome::Run;
}

}  // namespace rrto::server
