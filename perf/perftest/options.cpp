#include "perf/perftest/options.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <type_traits>

#include <fmt/format.h>

#include "config/config.h"
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

// Sets one option from its value; false with `error` set when the value is
// not one the option takes.
using Setter = bool (*)(std::string_view name, std::string_view value, Options& o, std::string& error);

struct ValueOption {
  std::string_view name;
  Setter set;
};

struct Flag {
  std::string_view name;
  bool Options::*field;
};

template <std::string Options::*field>
bool set_text(std::string_view, std::string_view value, Options& o, std::string&) {
  o.*field = std::string(value);
  return true;
}

template <std::vector<std::string> Options::*field>
bool set_list(std::string_view, std::string_view value, Options& o, std::string&) {
  o.*field = split(value);
  return true;
}

// A whole number in [min, max].
template <auto field, uint64_t min, uint64_t max>
bool set_number(std::string_view name, std::string_view value, Options& o, std::string& error) {
  uint64_t n = 0;
  if (!to_u64(value, n) || n < min || n > max) {
    error = fmt::format("{}: '{}' is not a valid number here", name, value);
    return false;
  }
  o.*field = static_cast<std::remove_reference_t<decltype(o.*field)>>(n);
  return true;
}

bool set_sizes(std::string_view, std::string_view value, Options& o, std::string& error) {
  o.sizes.clear();
  for (const std::string& part : split(value)) {
    uint64_t n = 0;
    if (!to_u64(part, n) || n == 0) {
      error = fmt::format("-s: '{}' is not a size in bytes (at least 1)", part);
      return false;
    }
    o.sizes.push_back(n);
  }
  return true;
}

bool set_percentile(std::string_view, std::string_view value, Options& o, std::string& error) {
  if (!to_double(value, o.percentile) || !(o.percentile > 0 && o.percentile < 100)) {
    error = fmt::format("-R: '{}' is not a percentile rank between 0 and 100", value);
    return false;
  }
  return true;
}

bool set_time_scale(std::string_view, std::string_view value, Options& o, std::string& error) {
  double us = 0;
  if (!to_double(value, us) || !(us >= 0 && us <= config::kMaxTimeScaleUs)) {
    error = fmt::format("--time-scale-us: '{}' is not a number of microseconds from 0 to {:g}", value,
                        config::kMaxTimeScaleUs);
    return false;
  }
  o.time_scale_us = us;
  return true;
}

bool set_max_time(std::string_view, std::string_view value, Options& o, std::string& error) {
  if (!to_double(value, o.max_seconds) || !(o.max_seconds >= 0)) {
    error = fmt::format("--max-time: '{}' is not a number of seconds", value);
    return false;
  }
  return true;
}

constexpr uint64_t kAny = UINT64_MAX;
constexpr uint64_t kMaxClients = 1024, kMaxDevices = 64;

constexpr Flag kFlags[] = {
    {"-h", &Options::help},
    {"--help", &Options::help},
    {"-f", &Options::final_only},
    {"--json", &Options::json},
    {"--changing-scalar", &Options::changing_scalar},
    {"--shared-memory", &Options::shared_memory},
};

constexpr ValueOption kValueOptions[] = {
    {"-t", set_text<&Options::test>},
    {"-s", set_sizes},
    {"-n", set_number<&Options::iterations, 0, kAny>},
    {"-w", set_number<&Options::warmup, 0, kAny>},
    {"-p", set_number<&Options::port, 0, 65535>},
    {"-O", set_number<&Options::outstanding, 1, 1024>},
    {"-R", set_percentile},
    {"--kernel-us", set_number<&Options::kernel_us, 0, INT32_MAX>},
    {"--clients", set_number<&Options::clients, 1, kMaxClients>},
    {"--devices", set_number<&Options::devices, 1, kMaxDevices>},
    {"--time-scale-us", set_time_scale},
    {"--max-time", set_max_time},
    {"--link", set_text<&Options::link>},
    {"--server", set_text<&Options::server>},
    {"--mode", set_list<&Options::modes>},
    {"--workload", set_list<&Options::workloads>},
    {"--listen", set_text<&Options::listen>},
    {"--port-file", set_text<&Options::port_file>},
    {"--backend", set_text<&Options::backend>},
    {"--config", set_text<&Options::config>},
};

template <typename T, size_t N>
const T* find_option(const T (&table)[N], std::string_view name) {
  for (const T& entry : table) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

// The command line into `o`, option by option. A long option may carry its
// value after '=' ("--mode=rpc"); flags ignore such a value.
bool parse_arguments(int argc, const char* const* argv, Options& o, std::string& error) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::optional<std::string_view> inline_value;
    if (arg.starts_with("--")) {
      if (const size_t eq = arg.find('='); eq != std::string_view::npos) {
        inline_value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
      }
    }
    if (const Flag* flag = find_option(kFlags, arg)) {
      o.*(flag->field) = true;
    } else if (const ValueOption* option = find_option(kValueOptions, arg)) {
      if (!inline_value && i + 1 >= argc) {
        error = fmt::format("{} needs a value", arg);
        return false;
      }
      const std::string_view value = inline_value ? *inline_value : std::string_view(argv[++i]);
      if (!option->set(arg, value, o, error)) return false;
    } else if (!arg.empty() && arg[0] != '-' && o.peer.empty()) {
      o.peer = std::string(arg);
    } else {
      error = fmt::format("unknown argument '{}'", arg);
      return false;
    }
  }
  return true;
}

// What the options say together: a known link, and for the client side a
// known test and modes.
bool check_options(const Options& o, std::string& error) {
  transport::LinkProfile link;
  std::string why;
  if (!ok(transport::parse_link(o.link, link, why))) {
    error = fmt::format("link emulation '{}': {}", o.link, why);
    return false;
  }
  if (!o.client()) {
    if ((o.devices || o.time_scale_us) && (!o.config.empty() || !o.server.empty() || o.backend == "cuda")) {
      error = "--devices and --time-scale-us describe the host devices of the rrto-server started here: not with "
              "--config, --server or --backend cuda";
      return false;
    }
    return true;
  }
  if (o.time_scale_us || o.shared_memory) {
    error = fmt::format("{} is an option of the server side", o.time_scale_us ? "--time-scale-us" : "--shared-memory");
    return false;
  }
  if (o.clients && o.test != "infer_lat") {
    error = "--clients: only for -t infer_lat";
    return false;
  }
  if (o.kernel_us && std::find(o.workloads.begin(), o.workloads.end(), "sleep") == o.workloads.end()) {
    error = "--kernel-us: only for --workload sleep";
    return false;
  }
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

}  // namespace

bool parse_options(int argc, const char* const* argv, Options& o, std::string& error) {
  if (const char* link = std::getenv("RRTO_LINK")) o.link = link;
  if (!parse_arguments(argc, argv, o, error)) return false;
  if (o.help) return true;
  return check_options(o, error);
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
      "     --workload <w>[,<w>]   infer_lat workloads: cnn, resnet50, bert, detector, sleep\n"
      "                            (cnn,resnet50,bert)\n"
      "     --changing-scalar      infer_lat: one kernel argument changes every inference\n"
      "     --kernel-us <us>       infer_lat --workload sleep: how long its one kernel takes (1000)\n"
      "     --clients <n>          infer_lat: run n workload processes at once, each its own session, and\n"
      "                            report their aggregate throughput and each one's latency\n"
      "     --devices <d>          fail unless the server side's rrto-server has d host devices\n"
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
      "     --shared-memory        let clients on this host use shared memory (UCX posix/sysv), in\n"
      "                            raw tests and in the rrto-server it starts (off, as in rrto-server)\n"
      "     --backend host|cuda    backend of the rrto-server it starts\n"
      "     --config <file>        config file of the rrto-server it starts\n"
      "     --devices <d>          the rrto-server it starts has d host devices (its config is written here)\n"
      "     --time-scale-us <us>   ... each with this simulated device time per thread block (0)\n"
      "     --server <host:port>   start no rrto-server; send clients to this one\n"
      "\n"
      "  Output format:\n"
      "     -f             print only final numbers\n"
      "     --json         print one JSON document (every run, with its counts) instead of tables\n"
      "\n"
      "  Latencies are whole round trips (request sent to reply received) or whole iterations;\n"
      "  ucx_perftest halves its ping-pong latencies, rrto-perftest does not. Bandwidth is the bytes an\n"
      "  iteration moves / its latency, in MiB/s (\"MB/s\"): the message or copy bytes (raw_am_lat,\n"
      "  raw_am_bw, memcpy_bw); for infer_lat the program's own input and output bytes, its payload, not\n"
      "  the protocol's bytes; none for rpc_lat and launch_lat (0.00).\n"
      "\n"
      "  Example - server side (start it first; it serves until SIGINT or SIGTERM):\n"
      "     $ build/bin/rrto-perftest\n"
      "  Example - client side, per-inference latency of the example CNN in each mode over an emulated 5G link:\n"
      "     $ build/bin/rrto-perftest localhost -t infer_lat --workload cnn --link 5g\n"
      "  Example - client side, raw UCX round trips (no RRTO), the floor of rpc_lat:\n"
      "     $ build/bin/rrto-perftest localhost -t raw_am_lat\n";
  return text;
}

}  // namespace rrto::perf
