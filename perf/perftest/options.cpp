#include "perf/perftest/options.h"

#include <cerrno>
#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

#include "perf/perftest/tests.h"
#include "transport/link.h"

namespace rrto::perf {
namespace {

bool to_u64(std::string_view text, uint64_t& out) {
  const std::string s(text);
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || s[0] == '-' || end == s.c_str() || *end != '\0' || errno != 0) return false;
  out = v;
  return true;
}

bool to_double(std::string_view text, double& out) {
  const std::string s(text);
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return !s.empty() && end != s.c_str() && *end == '\0';
}

std::vector<std::string> split(std::string_view text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const size_t end = comma == std::string_view::npos ? text.size() : comma;
    parts.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

}  // namespace

bool parse_options(int argc, const char* const* argv, Options& o, std::string& error) {
  if (const char* link = std::getenv("RRTO_LINK")) o.link = link;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view inline_value;
    bool has_inline = false;
    if (arg.starts_with("--")) {
      if (const size_t eq = arg.find('='); eq != std::string_view::npos) {
        inline_value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        has_inline = true;
      }
    }
    auto value = [&](std::string_view& out) {
      if (has_inline) {
        out = inline_value;
        return true;
      }
      if (i + 1 >= argc) {
        error = fmt::format("{} needs a value", arg);
        return false;
      }
      out = argv[++i];
      return true;
    };
    std::string_view v;
    uint64_t n = 0;
    if (arg == "-h" || arg == "--help") {
      o.help = true;
    } else if (arg == "-f") {
      o.final_only = true;
    } else if (arg == "--json") {
      o.json = true;
    } else if (arg == "--changing-scalar") {
      o.changing_scalar = true;
    } else if (arg == "-t") {
      if (!value(v)) return false;
      o.test = std::string(v);
    } else if (arg == "-s") {
      if (!value(v)) return false;
      o.sizes.clear();
      for (const std::string& part : split(v)) {
        if (!to_u64(part, n) || n == 0) {
          error = fmt::format("-s: '{}' is not a size in bytes (at least 1)", part);
          return false;
        }
        o.sizes.push_back(n);
      }
    } else if (arg == "-n" || arg == "-w" || arg == "-p" || arg == "-O") {
      if (!value(v)) return false;
      if (!to_u64(v, n) || (arg == "-p" && n > 65535) || (arg == "-O" && (n == 0 || n > 1024))) {
        error = fmt::format("{}: '{}' is not a valid number here", arg, v);
        return false;
      }
      if (arg == "-n") o.iterations = n;
      if (arg == "-w") o.warmup = n;
      if (arg == "-p") o.port = static_cast<uint16_t>(n);
      if (arg == "-O") o.outstanding = static_cast<unsigned>(n);
    } else if (arg == "-R") {
      if (!value(v)) return false;
      if (!to_double(v, o.percentile) || !(o.percentile > 0 && o.percentile < 100)) {
        error = fmt::format("-R: '{}' is not a percentile rank between 0 and 100", v);
        return false;
      }
    } else if (arg == "--max-time") {
      if (!value(v)) return false;
      if (!to_double(v, o.max_seconds) || !(o.max_seconds >= 0)) {
        error = fmt::format("--max-time: '{}' is not a number of seconds", v);
        return false;
      }
    } else if (arg == "--link") {
      if (!value(v)) return false;
      o.link = std::string(v);
    } else if (arg == "--server") {
      if (!value(v)) return false;
      o.server = std::string(v);
    } else if (arg == "--mode") {
      if (!value(v)) return false;
      o.modes = split(v);
    } else if (arg == "--workload") {
      if (!value(v)) return false;
      o.workloads = split(v);
    } else if (arg == "--listen") {
      if (!value(v)) return false;
      o.listen = std::string(v);
    } else if (arg == "--port-file") {
      if (!value(v)) return false;
      o.port_file = std::string(v);
    } else if (arg == "--backend") {
      if (!value(v)) return false;
      o.backend = std::string(v);
    } else if (arg == "--config") {
      if (!value(v)) return false;
      o.config = std::string(v);
    } else if (!arg.empty() && arg[0] != '-' && o.peer.empty()) {
      o.peer = std::string(arg);
    } else {
      error = fmt::format("unknown argument '{}'", arg);
      return false;
    }
  }
  if (o.help) return true;

  transport::LinkProfile link;
  std::string why;
  if (!ok(transport::parse_link(o.link, link, why))) {
    error = fmt::format("link emulation '{}': {}", o.link, why);
    return false;
  }
  if (!o.client()) return true;
  if (o.test.empty()) {
    error = "no test given (-t TEST; -h lists them)";
    return false;
  }
  if (!find_test(o.test)) {
    error = fmt::format("unknown test '{}' (-h lists them)", o.test);
    return false;
  }
  for (const std::string& m : o.modes) {
    bool known = false;
    for (const std::string& k : known_modes()) known |= m == k;
    if (!known) {
      error = fmt::format("--mode: unknown mode '{}' (rpc, async, replay, ideal)", m);
      return false;
    }
  }
  return true;
}

std::string usage() {
  std::string text =
      "  Usage: rrto-perftest [ server-hostname ] [ options ]\n"
      "\n"
      "  Without a server-hostname rrto-perftest is the server side: it answers the raw UCX tests\n"
      "  itself and starts an rrto-server (bin/rrto-server) for the RRTO tests, or refers clients to\n"
      "  the one given by --server. It serves until SIGINT or SIGTERM.\n"
      "  With a server-hostname (or with -t and --server alone, for the RRTO tests) it is the client side\n"
      "  and runs one test.\n"
      "\n"
      "  Common options:\n"
      "     -t <test>      test to run:\n";
  for (const TestInfo& t : tests()) text += fmt::format("                   {:>11} - {}\n", t.name, t.description);
  text += fmt::format(
      "     -s <size>      list of message or copy sizes, one run each (per test; e.g. \"-s 8,4096,4194304\")\n"
      "     -n <iters>     number of iterations to run (per test)\n"
      "     -w <iters>     number of warm-up iterations (per test)\n"
      "     -R <rank>      percentile rank of the percentile column (50.0); the 99th is always shown\n"
      "     -O <count>     raw_am_bw: most sends in flight (8)\n"
      "     -p <port>      port of the rrto-perftest server ({})\n"
      "     -h             show this help message\n"
      "\n"
      "  Client side:\n"
      "     --server <host:port>   run the RRTO tests against this rrto-server (raw tests still need a\n"
      "                            server-hostname)\n"
      "     --mode <m>[,<m>]       client modes of launch_lat and infer_lat: rpc, async, replay, ideal\n"
      "                            (all by default; one the client library refuses is reported as not\n"
      "                            available); memcpy_bw: rpc by default\n"
      "     --workload <w>[,<w>]   infer_lat workloads: cnn, resnet50, bert, detector (cnn,resnet50,bert)\n"
      "     --changing-scalar      infer_lat: one kernel argument changes every inference\n"
      "     --link <spec>          emulated link for every message, both ways (default: RRTO_LINK);\n"
      "                            \"rtt=5ms,bw=100mbit\", or a preset:",
      kDefaultPort);
  for (const transport::LinkPreset& p : transport::link_presets()) text += fmt::format(" {}", p.name);
  text +=
      "\n"
      "     --max-time <s>         end a run after this many seconds (at least 3 iterations)\n"
      "\n"
      "  Server side:\n"
      "     --listen <addr>        address to listen on (0.0.0.0)\n"
      "     --port-file <path>     write the port once listening (useful with -p 0)\n"
      "     --backend host|cuda    backend of the rrto-server it starts\n"
      "     --config <file>        config file of the rrto-server it starts\n"
      "     --server <host:port>   start no rrto-server; send clients to this one\n"
      "\n"
      "  Output format:\n"
      "     -f             print only final numbers\n"
      "     --json         print one JSON document (every run, with its counts) instead of tables\n"
      "\n"
      "  Latencies are whole round trips (request sent to reply received) or whole iterations;\n"
      "  ucx_perftest halves its ping-pong latencies, rrto-perftest does not. MB/s is MiB/s.\n";
  return text;
}

}  // namespace rrto::perf
