#include "perf/perftest/client_side.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/config.h"
#include "perf/perftest/concurrent_runs.h"
#include "perf/perftest/device_busy.h"
#include "perf/perftest/measurement.h"
#include "perf/perftest/paths.h"
#include "perf/perftest/raw_client.h"
#include "perf/perftest/rpc_session.h"
#include "perf/perftest/run_record.h"
#include "perf/perftest/server_info.h"
#include "perf/perftest/table.h"
#include "perf/perftest/tests.h"
#include "perf/perftest/workload_runner.h"
#include "transport/link.h"

namespace rrto::perf {
namespace {

using clock_type = std::chrono::steady_clock;

constexpr int kExitOk = 0, kExitFailure = 1;
// The server-compute run of infer_lat: enough inferences for a median.
constexpr uint64_t kComputeIterations = 20;

// Per workload: the iterations and output checksum of its first run.
using References = std::map<std::string, std::pair<uint64_t, std::string>>;

uint64_t ns_since(clock_type::time_point t) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - t).count());
}

// The bytes behind a workload run's bandwidth columns: the program's own
// inputs and outputs of one iteration (the same in every iteration).
uint64_t payload_bytes(const WorkloadOutcome& out) { return out.payload_up + out.payload_down; }

// What the bandwidth columns (and --json's bandwidth_mbs) count.
const char* bandwidth_meaning(TestKind kind) {
  switch (kind) {
    case TestKind::RawLatency:
    case TestKind::RawBandwidth: return "the message bytes of an iteration / latency, MiB/s";
    case TestKind::RpcLatency: return "none: 0";
    case TestKind::Workload: break;
  }
  return "the program's own input and output bytes of an iteration / latency, MiB/s (0 when it moves none)";
}

class Client {
 public:
  explicit Client(const Options& o) : o_(o), test_(*find_test(o.test)) {
    std::string why;
    (void)transport::parse_link(o.link, link_, why);  // checked by parse_options
    if (!o.json) table_.emplace(o.final_only, test_.bandwidth, o.percentile);
  }

  int run();

 private:
  uint64_t iterations() const { return o_.iterations.value_or(test_.default_iterations); }
  uint64_t warmup() const { return o_.warmup.value_or(test_.default_warmup); }
  std::vector<size_t> sizes() const { return o_.sizes.empty() ? test_.default_sizes : o_.sizes; }
  bool out_of_time(clock_type::time_point start, uint64_t done) const {
    return o_.max_seconds > 0 && done >= 3 &&
           std::chrono::duration<double>(clock_type::now() - start).count() >= o_.max_seconds;
  }

  bool connect_raw();
  bool find_rrto_server();
  void probe_transport();

  int raw_latency();
  int raw_bandwidth();
  int rpc_latency();
  int workload_test();
  // One rrto-perf-workload run of `workload` in `mode`, with its count
  // baseline; prints and records it. Returns false on a failure (not on
  // "not available").
  bool workload_run(const std::string& workload, size_t size, const std::string& mode,
                    std::optional<double> compute_us, References& references);
  // infer_lat --clients: the clients of one workload and mode at once.
  bool clients_run(const std::string& workload, const std::string& mode, References& references);
  // The server's devices' busy time so far, when its status endpoint is known.
  std::optional<std::vector<uint64_t>> device_busy_ns();
  std::optional<double> server_compute(const std::string& workload);
  WorkloadRun base_run(const std::string& workload, size_t size, const std::string& mode) const;
  // Records a run that did not complete (not available or failed); nullopt
  // when `out` is Ok, else what the run returns (false: a failure).
  std::optional<bool> settle_unless_ok(const WorkloadOutcome& out, RunRecord& r);
  // What the first of `outs` reported (transport, link, payload, checksum),
  // and the counts per iteration over all `outs`, less each one's set-up and
  // warm-up (`baseline`).
  void record_outcomes(RunRecord& r, std::span<const WorkloadOutcome> outs, const WorkloadOutcome& baseline) const;
  void check_outputs(RunRecord& r, const std::string& label, uint64_t iterations, References& references);

  std::vector<std::pair<std::string, std::string>> box(const std::string& api, const std::string& mode,
                                                        const std::string& workload, size_t size) const;
  void begin(const std::vector<std::pair<std::string, std::string>>& lines);
  // Feeds one sample into `m`, with a periodic row when one is due.
  void sample(Measurement& m, uint64_t ns);
  // `wall`: the run's wall time when another process measured it.
  void finish(RunRecord& r, Measurement& m, std::optional<std::chrono::nanoseconds> wall = std::nullopt);
  void unavailable(RunRecord& r);
  void failed(RunRecord& r);

  const Options& o_;
  const TestInfo& test_;
  transport::LinkProfile link_;
  std::optional<TablePrinter> table_;
  std::unique_ptr<RawClient> raw_;
  std::string rrto_host_;
  uint16_t rrto_port_ = 0;
  std::string transport_;
  ServerInfo server_;  // what the server side said of its rrto-server
  std::vector<RunRecord> records_;
};

bool Client::connect_raw() {
  if (raw_) return true;
  if (o_.peer.empty()) {
    fmt::print(stderr, "rrto-perftest: {} needs an rrto-perftest server (give its hostname)\n", test_.name);
    return false;
  }
  if (!ok(RawClient::connect(o_.peer, o_.port, link_, raw_))) {
    fmt::print(stderr, "rrto-perftest: cannot reach an rrto-perftest server at {}:{}\n", o_.peer, o_.port);
    return false;
  }
  return true;
}

bool Client::find_rrto_server() {
  std::string address = o_.server;
  if (address.empty()) {
    if (!connect_raw()) return false;
    if (!parse_server_info(raw_->info(), server_)) {
      fmt::print(stderr, "rrto-perftest: the server at {} did not say where its rrto-server is\n", o_.peer);
      return false;
    }
    address = server_.rrto_address;
    if (!address.empty() && address[0] == ':') address = o_.peer + address;
    if (!server_.status_address.empty() && server_.status_address[0] == ':')
      server_.status_address = o_.peer + server_.status_address;
  }
  if (o_.devices && server_.devices != o_.devices) {
    fmt::print(stderr, "rrto-perftest: --devices {}: the server side {}\n", *o_.devices,
               server_.devices ? fmt::format("has {} host device(s)", *server_.devices)
                               : std::string("did not say how many devices its rrto-server has (start it with "
                                             "--devices)"));
    return false;
  }
  config::ServerAddress parsed;
  if (!config::parse_host_port(address, parsed) || parsed.port == 0) {
    fmt::print(stderr, "rrto-perftest: '{}' is not host:port\n", address);
    return false;
  }
  rrto_host_ = parsed.host;
  rrto_port_ = parsed.port;
  return true;
}

void Client::probe_transport() {
  std::unique_ptr<RpcSession> session;
  std::string error;
  if (ok(RpcSession::open(rrto_host_, rrto_port_, {}, session, error))) transport_ = session->transport_name();
}

std::vector<std::pair<std::string, std::string>> Client::box(const std::string& api, const std::string& mode,
                                                             const std::string& workload, size_t size) const {
  std::vector<std::pair<std::string, std::string>> lines = {{"API", api}, {"Test", test_.description}};
  if (!mode.empty()) lines.emplace_back("Mode", mode);
  if (!workload.empty()) lines.emplace_back("Workload", workload);
  if (size) lines.emplace_back("Message size", std::to_string(size));
  if (!rrto_host_.empty()) lines.emplace_back("Server", fmt::format("rrto-server at {}:{}", rrto_host_, rrto_port_));
  lines.emplace_back("Transport", transport_.empty() ? "(unknown)" : transport_);
  lines.emplace_back("Link", link_.describe());
  return lines;
}

void Client::begin(const std::vector<std::pair<std::string, std::string>>& lines) {
  if (!table_) return;
  table_->box(lines);
  table_->header();
}

void Client::sample(Measurement& m, uint64_t ns) {
  m.add(ns);
  if (table_ && m.report_due()) table_->progress(m.take_interval());
}

void Client::finish(RunRecord& r, Measurement& m, std::optional<std::chrono::nanoseconds> wall) {
  if (wall) {
    m.finish(*wall);
  } else {
    m.finish();
  }
  r.summary = m.total();
  std::vector<uint64_t> samples = m.samples();
  r.p50_us = percentile(samples, 50.0) / 1e3;
  if (r.transport.empty()) r.transport = transport_;
  if (table_) {
    table_->final_row(r.name, r.summary);
    if (const std::string line = r.counts_line(); !line.empty()) table_->note(line);
    if (r.clients) table_->note(r.clients->summary_line());
  }
  records_.push_back(r);
}

void Client::unavailable(RunRecord& r) {
  r.available = false;
  if (table_) table_->unavailable(r.name, r.reason);
  records_.push_back(r);
}

void Client::failed(RunRecord& r) {
  r.failed = true;
  if (table_) table_->unavailable(r.name, "failed: " + r.reason);
  fmt::print(stderr, "rrto-perftest: {} {}: {}\n", test_.name, r.name, r.reason);
  records_.push_back(r);
}

// ------------------------------------------------------------------ raw UCX

int Client::raw_latency() {
  if (!connect_raw()) return kExitFailure;
  transport_ = raw_->transport_name();
  for (size_t size : sizes()) {
    RunRecord r{.name = std::to_string(size), .size = size, .warmup = warmup()};
    begin(box("UCX protocol layer (ucp active messages), no RRTO", "", "", size));
    for (uint64_t i = 0; i < warmup(); ++i)
      if (!ok(raw_->echo(size))) return kExitFailure;
    Measurement m(size, o_.percentile);
    m.start();
    const auto start = clock_type::now();
    for (uint64_t i = 0; i < iterations() && !out_of_time(start, i); ++i) {
      const auto t0 = clock_type::now();
      if (!ok(raw_->echo(size))) {
        fmt::print(stderr, "rrto-perftest: lost the connection to {}\n", o_.peer);
        return kExitFailure;
      }
      sample(m, ns_since(t0));
    }
    finish(r, m);
  }
  return kExitOk;
}

int Client::raw_bandwidth() {
  if (!connect_raw()) return kExitFailure;
  transport_ = raw_->transport_name();
  for (size_t size : sizes()) {
    RunRecord r{.name = std::to_string(size), .size = size, .warmup = warmup()};
    begin(box("UCX protocol layer (ucp active messages), no RRTO", "", "", size));
    if (!ok(raw_->stream(size, warmup(), o_.outstanding, [](uint64_t) {}))) return kExitFailure;
    Measurement m(size, o_.percentile);
    m.start();
    if (!ok(raw_->stream(size, iterations(), o_.outstanding, [&](uint64_t ns) { sample(m, ns); }))) {
      fmt::print(stderr, "rrto-perftest: lost the connection to {}\n", o_.peer);
      return kExitFailure;
    }
    finish(r, m);
  }
  return kExitOk;
}

// ------------------------------------------------------------ RRTO protocol

int Client::rpc_latency() {
  if (!find_rrto_server()) return kExitFailure;
  std::unique_ptr<RpcSession> session;
  std::string error;
  if (!ok(RpcSession::open(rrto_host_, rrto_port_, link_, session, error))) {
    fmt::print(stderr, "rrto-perftest: {}\n", error);
    return kExitFailure;
  }
  transport_ = session->transport_name();
  RunRecord r{.name = "null call", .warmup = warmup()};
  begin(box("RRTO protocol (transport + protocol/batch.h), no client library", "", "MemGetInfo, one call a batch",
            0));
  for (uint64_t i = 0; i < warmup(); ++i)
    if (!ok(session->null_call())) return kExitFailure;
  Measurement m(0, o_.percentile);
  m.start();
  const auto start = clock_type::now();
  for (uint64_t i = 0; i < iterations() && !out_of_time(start, i); ++i) {
    const auto t0 = clock_type::now();
    if (!ok(session->null_call())) {
      fmt::print(stderr, "rrto-perftest: lost the connection to rrto-server\n");
      return kExitFailure;
    }
    sample(m, ns_since(t0));
  }
  r.round_trips = 1;
  r.bytes_up = static_cast<double>(session->request_bytes());
  r.bytes_down = static_cast<double>(session->reply_bytes());
  finish(r, m);
  return kExitOk;
}

// ------------------------------------------------------ through libcuda.so.1

WorkloadRun Client::base_run(const std::string& workload, size_t size, const std::string& mode) const {
  return WorkloadRun{.program = workload_program(),
                     .library_dir = client_library_dir(),
                     .workload = workload,
                     .size = size,
                     .mode = mode,
                     .server = fmt::format("{}:{}", rrto_host_, rrto_port_),
                     .link = "",
                     .iterations = 0,
                     .warmup = warmup(),
                     .changing_scalar = o_.changing_scalar,
                     .kernel_us = o_.kernel_us};
}

std::optional<double> Client::server_compute(const std::string& workload) {
  WorkloadRun run = base_run(workload, 0, "async");
  run.iterations = std::min(iterations(), kComputeIterations);
  run.warmup = std::min<uint64_t>(warmup(), 3);
  run.events = true;
  WorkloadOutcome out = run_workload(run, [] {}, [](uint64_t) {});
  if (out.result != WorkloadOutcome::Result::Ok || out.compute_ns.empty()) return std::nullopt;
  return percentile(out.compute_ns, 50.0) / 1e3;
}

std::optional<bool> Client::settle_unless_ok(const WorkloadOutcome& out, RunRecord& r) {
  if (out.result == WorkloadOutcome::Result::Ok) return std::nullopt;
  r.reason = out.reason;
  if (out.result == WorkloadOutcome::Result::NotAvailable) {
    unavailable(r);
    return true;
  }
  failed(r);
  return false;
}

void Client::record_outcomes(RunRecord& r, std::span<const WorkloadOutcome> outs,
                             const WorkloadOutcome& baseline) const {
  const WorkloadOutcome& first = outs.front();
  r.transport = first.counts.transport;
  r.client_link = first.counts.link;
  r.payload_up = first.payload_up;
  r.payload_down = first.payload_down;
  r.checksum = first.checksum;
  uint64_t n = 0, round_trips = 0, up = 0, down = 0;
  for (const WorkloadOutcome& out : outs) {
    if (!out.counts.present || !baseline.counts.present) return;
    n += out.iterations;
    round_trips += out.counts.round_trips - baseline.counts.round_trips;
    up += out.counts.bytes_up - baseline.counts.bytes_up;
    down += out.counts.bytes_down - baseline.counts.bytes_down;
  }
  if (n == 0) return;
  r.round_trips = static_cast<double>(round_trips) / static_cast<double>(n);
  r.bytes_up = static_cast<double>(up) / static_cast<double>(n);
  r.bytes_down = static_cast<double>(down) / static_cast<double>(n);
}

void Client::check_outputs(RunRecord& r, const std::string& label, uint64_t iterations, References& references) {
  // Same program, same inputs, same number of iterations: same outputs, in
  // every mode.
  const auto [reference, first] = references.try_emplace(label, iterations, r.checksum);
  if (!first && reference->second.first == iterations && !r.checksum.empty())
    r.outputs_match = reference->second.second == r.checksum;
}

bool Client::workload_run(const std::string& workload, size_t size, const std::string& mode,
                          std::optional<double> compute_us, References& references) {
  const std::string label = size ? fmt::format("{} {}", workload, size) : workload;
  std::string name = test_.name == std::string_view("launch_lat") ? mode : fmt::format("{} {}", mode, label);
  if (test_.name == std::string_view("memcpy_bw") && (o_.modes.empty() || o_.modes.size() == 1)) name = label;
  RunRecord r{.name = name, .mode = mode, .workload = workload, .size = size, .warmup = warmup()};
  begin(box("RRTO client library (libcuda.so.1), in rrto-perf-workload", mode, workload == "launch" ? "" : workload,
            size));

  WorkloadRun run = base_run(workload, size, mode);
  // What the set-up and warm-up cost in calls and bytes, to take away from
  // the measured run's totals; over the same link, since the bytes depend on
  // it (compressed uploads).
  run.link = link_.enabled() ? link_.describe() : "";
  const WorkloadOutcome baseline = run_workload(run, [] {}, [](uint64_t) {});
  if (const auto settled = settle_unless_ok(baseline, r)) return *settled;

  run.iterations = iterations();
  run.max_seconds = o_.max_seconds;
  Measurement m(payload_bytes(baseline), o_.percentile);
  const WorkloadOutcome out = run_workload(run, [&] { m.start(); }, [&](uint64_t ns) { sample(m, ns); });
  if (const auto settled = settle_unless_ok(out, r)) return *settled;
  record_outcomes(r, std::span(&out, 1), baseline);
  if (compute_us) {
    r.server_compute_us = compute_us;
    double transfer_s = 0;
    if (link_.up_bits_per_second)
      transfer_s += static_cast<double>(out.payload_up) * 8 / static_cast<double>(link_.up_bits_per_second);
    if (link_.down_bits_per_second)
      transfer_s += static_cast<double>(out.payload_down) * 8 / static_cast<double>(link_.down_bits_per_second);
    r.floor_us = static_cast<double>(link_.rtt().count()) / 1e3 + transfer_s * 1e6 + *compute_us;
  }
  check_outputs(r, label, out.iterations, references);
  finish(r, m, std::chrono::nanoseconds(out.wall_ns));
  return true;
}

std::optional<std::vector<uint64_t>> Client::device_busy_ns() {
  if (server_.status_address.empty()) return std::nullopt;
  std::string error;
  auto busy = read_device_busy_ns(server_.status_address, error);
  if (!busy) fmt::print(stderr, "rrto-perftest: device busy time not measured: {}\n", error);
  return busy;
}

bool Client::clients_run(const std::string& workload, const std::string& mode, References& references) {
  const uint32_t count = o_.clients.value_or(1);
  RunRecord r{.name = fmt::format("{} {} x{}", mode, workload, count), .mode = mode, .workload = workload,
              .warmup = warmup()};
  auto lines = box("RRTO client library (libcuda.so.1), in rrto-perf-workload", mode, workload, 0);
  lines.emplace_back("Clients", fmt::format("{} at once, each its own process and session", count));
  if (server_.devices)
    lines.emplace_back("Devices", fmt::format("{} host device(s), simulated time {:g} us per thread block",
                                              *server_.devices, server_.time_scale_us.value_or(0)));
  begin(lines);

  WorkloadRun run = base_run(workload, 0, mode);
  const WorkloadOutcome baseline = run_workload(run, [] {}, [](uint64_t) {});
  if (const auto settled = settle_unless_ok(baseline, r)) return *settled;

  run.link = link_.enabled() ? link_.describe() : "";
  run.iterations = iterations();
  run.max_seconds = o_.max_seconds;
  Measurement all(payload_bytes(baseline), o_.percentile);
  std::optional<std::vector<uint64_t>> busy_before;  // read as the clients are released
  const ConcurrentOutcome together = run_concurrently(
      run, count,
      [&] {
        all.start();
        busy_before = device_busy_ns();
      },
      [&](size_t, uint64_t ns) { sample(all, ns); });
  const auto busy_after = device_busy_ns();
  std::vector<WorkloadOutcome> outs;
  for (const ClientRun& c : together.clients) {
    outs.push_back(c.outcome);
    outs.back().reason = fmt::format("client {}: {}", outs.size(), c.outcome.reason);
    if (const auto settled = settle_unless_ok(outs.back(), r)) return *settled;
  }
  record_outcomes(r, outs, baseline);
  r.clients = summarise_clients(together, o_.percentile);
  r.clients->devices = server_.devices;
  r.clients->time_scale_us = server_.time_scale_us;
  if (busy_before && busy_after && busy_before->size() == busy_after->size()) {
    r.clients->device_busy_s.emplace();
    for (size_t i = 0; i < busy_after->size(); ++i)
      r.clients->device_busy_s->push_back(static_cast<double>((*busy_after)[i] - (*busy_before)[i]) / 1e9);
  }
  // Clients that ran as many iterations (--max-time can end them apart)
  // computed the same outputs.
  const bool clients_agree = std::all_of(outs.begin(), outs.end(), [&](const WorkloadOutcome& o) {
    return o.iterations != outs.front().iterations || o.checksum == r.checksum;
  });
  check_outputs(r, workload, outs.front().iterations, references);
  if (outs.size() > 1) r.outputs_match = clients_agree && r.outputs_match.value_or(true);
  if (table_)
    for (size_t c = 0; c < r.clients->per_client.size(); ++c)
      table_->named_row(fmt::format("client {}", c + 1), r.clients->per_client[c].summary);
  finish(r, all, together.window);
  return true;
}

int Client::workload_test() {
  if (!find_rrto_server()) return kExitFailure;
  if (!std::filesystem::exists(workload_program())) {
    RunRecord r{.name = test_.name, .reason = "rrto-perf-workload was not built (it needs nvcc)"};
    begin(box("RRTO client library (libcuda.so.1), in rrto-perf-workload", "", "", 0));
    unavailable(r);
    return kExitOk;
  }
  probe_transport();
  const std::vector<std::string> modes = o_.modes.empty() ? test_.default_modes : o_.modes;
  std::vector<std::string> workloads = test_.default_workloads;
  if (test_.name == std::string_view("infer_lat") && !o_.workloads.empty()) workloads = o_.workloads;
  const bool sized = test_.name == std::string_view("memcpy_bw");
  const std::vector<size_t> run_sizes = sized ? sizes() : std::vector<size_t>{0};

  bool all_ok = true;
  References references;
  for (const std::string& workload : workloads) {
    if (o_.clients) {
      for (const std::string& mode : modes) all_ok &= clients_run(workload, mode, references);
      continue;
    }
    std::optional<double> compute_us;
    if (test_.name == std::string_view("infer_lat")) compute_us = server_compute(workload);
    for (size_t size : run_sizes)
      for (const std::string& mode : modes) all_ok &= workload_run(workload, size, mode, compute_us, references);
  }
  if (const std::vector<std::string> notes = floor_explanation(records_); table_ && !notes.empty()) {
    table_->note("");
    for (const std::string& line : notes) table_->note(line);
  }
  return all_ok ? kExitOk : kExitFailure;
}

int Client::run() {
  int rc = kExitFailure;
  switch (test_.kind) {
    case TestKind::RawLatency: rc = raw_latency(); break;
    case TestKind::RawBandwidth: rc = raw_bandwidth(); break;
    case TestKind::RpcLatency: rc = rpc_latency(); break;
    case TestKind::Workload: rc = workload_test(); break;
  }
  if (o_.json) {
    nlohmann::json runs = nlohmann::json::array();
    for (const RunRecord& r : records_) runs.push_back(r.to_json(o_.percentile));
    const nlohmann::json doc = {
        {"tool", "rrto-perftest"},
        {"version", 1},
        {"test", test_.name},
        {"description", test_.description},
        {"peer", o_.peer.empty() ? nlohmann::json(nullptr) : nlohmann::json(fmt::format("{}:{}", o_.peer, o_.port))},
        {"rrto_server", rrto_host_.empty() ? nlohmann::json(nullptr)
                                           : nlohmann::json(fmt::format("{}:{}", rrto_host_, rrto_port_))},
        {"transport", transport_},
        {"link",
         {{"spec", link_.describe()},
          {"rtt_us", static_cast<double>(link_.rtt().count()) / 1e3},
          {"up_bits_per_second", link_.up_bits_per_second},
          {"down_bits_per_second", link_.down_bits_per_second}}},
        {"latency", "round trip or whole iteration, microseconds"},
        {"bandwidth", bandwidth_meaning(test_.kind)},
        {"ok", rc == kExitOk},
        {"runs", runs}};
    fmt::print("{}\n", doc.dump(1));
  }
  return rc;
}

}  // namespace

int run_client_side(const Options& options) { return Client(options).run(); }

}  // namespace rrto::perf
