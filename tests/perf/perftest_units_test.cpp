// rrto-perftest's pieces that need no server: the command line, the
// percentiles and summaries, a run's JSON, the server side's Info reply, and
// the summary of several clients.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "perf/perftest/concurrent_runs.h"
#include "perf/perftest/measurement.h"
#include "perf/perftest/options.h"
#include "perf/perftest/run_record.h"
#include "perf/perftest/server_info.h"
#include "perf/perftest/tests.h"

using namespace rrto::perf;

namespace {

bool parse(std::vector<const char*> args, Options& o, std::string& error) {
  args.insert(args.begin(), "rrto-perftest");
  return parse_options(static_cast<int>(args.size()), args.data(), o, error);
}

}  // namespace

TEST_CASE("the command line: server side, client side, sizes") {
  Options o;
  std::string error;
  REQUIRE(parse({"-p", "0", "--port-file", "/tmp/x"}, o, error));
  CHECK(!o.client());
  CHECK(o.port == 0);

  Options c;
  REQUIRE(parse({"10.0.0.2", "-t", "memcpy_bw", "-s", "8,4096,4194304", "-n", "7", "-w", "1", "-f", "--json",
                 "--mode", "rpc,async", "--link=rtt=5ms,bw=100mbit", "--max-time", "2.5"},
                c, error));
  CHECK(c.client());
  CHECK(c.peer == "10.0.0.2");
  CHECK(c.sizes == std::vector<size_t>{8, 4096, 4194304});
  CHECK(c.iterations == 7u);
  CHECK(c.warmup == 1u);
  CHECK(c.final_only);
  CHECK(c.json);
  CHECK(c.modes == std::vector<std::string>{"rpc", "async"});
  CHECK(c.link == "rtt=5ms,bw=100mbit");
  CHECK(c.max_seconds == 2.5);

  // --server with a test is a client of that rrto-server; without one, an
  // option of the server side.
  Options s;
  REQUIRE(parse({"--server", "127.0.0.1:18515", "-t", "rpc_lat"}, s, error));
  CHECK(s.client());
  Options t;
  REQUIRE(parse({"--server", "127.0.0.1:18515"}, t, error));
  CHECK(!t.client());
}

TEST_CASE("the command line: mistakes are named") {
  const std::vector<std::vector<const char*>> bad = {
      {"host"},                                   // no test
      {"host", "-t", "nope"},                     // unknown test
      {"host", "-t", "rpc_lat", "-s", "0"},       // size 0
      {"host", "-t", "rpc_lat", "-n", "-3"},      // negative
      {"host", "-t", "rpc_lat", "-R", "100"},     // rank out of range
      {"host", "-t", "rpc_lat", "--link", "fast"},  // unknown preset
      {"host", "-t", "infer_lat", "--mode", "turbo"},
      {"host", "-t", "rpc_lat", "--frobnicate"},
      {"host", "-t"},  // missing value
      {"host", "-t", "rpc_lat", "--clients", "2"},                          // infer_lat only
      {"host", "-t", "infer_lat", "--clients", "0"},                        // at least one
      {"host", "-t", "infer_lat", "--workload", "cnn", "--kernel-us", "5"},  // sleep only
      {"host", "-t", "infer_lat", "--time-scale-us", "2"},                  // server side only
      {"--devices", "2", "--config", "server.json"},                       // the config says
      {"--devices", "0"},
      {"--time-scale-us", "-1"},
  };
  for (const auto& args : bad) {
    Options o;
    std::string error;
    INFO(args.back());
    CHECK(!parse(args, o, error));
    CHECK(!error.empty());
  }
}

TEST_CASE("the command line: several clients, host devices, the sleep workload") {
  Options server;
  std::string error;
  REQUIRE_MESSAGE(parse({"--devices", "8", "--time-scale-us", "2.5"}, server, error), error);
  CHECK(!server.client());
  CHECK(server.devices == 8u);
  CHECK(server.time_scale_us == 2.5);

  Options client;
  REQUIRE_MESSAGE(parse({"host", "-t", "infer_lat", "--workload", "sleep", "--kernel-us", "250", "--clients", "32",
                         "--devices", "8"},
                        client, error),
                  error);
  CHECK(client.kernel_us == 250u);
  CHECK(client.clients == 32u);
  CHECK(client.devices == 8u);
}

TEST_CASE("the server side's Info reply") {
  ServerInfo info;
  REQUIRE(parse_server_info("rrto=:4242", info));
  CHECK(info.rrto_address == ":4242");
  CHECK(!info.devices);
  CHECK(format_server_info(info) == "rrto=:4242");

  info.devices = 4;
  info.time_scale_us = 2.5;
  info.status_address = ":4243";
  const std::string text = format_server_info(info);
  CHECK(text == "rrto=:4242 devices=4 time_scale_us=2.5 status=:4243");
  ServerInfo back;
  REQUIRE(parse_server_info(text + " later=1", back));
  CHECK(back.rrto_address == ":4242");
  CHECK(back.devices == 4u);
  CHECK(back.time_scale_us == 2.5);
  CHECK(back.status_address == ":4243");

  CHECK(!parse_server_info("hello", back));
  CHECK(!parse_server_info("rrto=:1 devices=0", back));
  CHECK(!parse_server_info("rrto=:1 time_scale_us=x", back));
}

TEST_CASE("usage lists every test") {
  const std::string text = usage();
  for (const TestInfo& t : tests()) CHECK(text.find(std::string(" ") + t.name + " - ") != std::string::npos);
}

TEST_CASE("usage ends with examples: the server side first, then a client run and a raw UCX test") {
  const std::string text = usage();
  const size_t server = text.find("Example - server side");
  const size_t client = text.find("$ build/bin/rrto-perftest localhost -t infer_lat --workload cnn --link 5g\n");
  const size_t raw = text.find("$ build/bin/rrto-perftest localhost -t raw_am_lat\n");
  REQUIRE(server != std::string::npos);
  CHECK(text.find("$ build/bin/rrto-perftest\n", server) != std::string::npos);
  CHECK(text.find("start it first", server) != std::string::npos);
  REQUIRE(client != std::string::npos);
  REQUIRE(raw != std::string::npos);
  CHECK(server < client);
  CHECK(client < raw);
  CHECK(text.ends_with("-t raw_am_lat\n"));
  CHECK(text.find("Bandwidth is the bytes an") != std::string::npos);
}

TEST_CASE("nearest-rank percentiles") {
  std::vector<uint64_t> v = {5, 1, 4, 2, 3};
  CHECK(percentile(v, 50) == 3);
  CHECK(percentile(v, 99) == 5);
  CHECK(percentile(v, 1) == 1);
  std::vector<uint64_t> empty;
  CHECK(percentile(empty, 50) == 0);
}

TEST_CASE("a summary: latencies in microseconds, bandwidth in MiB/s") {
  Measurement m(1 << 20, 50.0);
  m.start();
  for (uint64_t ns : {1'000'000u, 2'000'000u, 3'000'000u, 4'000'000u}) m.add(ns);
  m.finish(std::chrono::milliseconds(20));
  const Summary s = m.total();
  CHECK(s.iterations == 4);
  CHECK(s.percentile_us == doctest::Approx(2000));
  CHECK(s.p99_us == doctest::Approx(4000));
  CHECK(s.average_us == doctest::Approx(2500));
  CHECK(s.overall_us == doctest::Approx(5000));
  CHECK(s.bandwidth_average == doctest::Approx(400));  // 1 MiB per 2.5 ms
  CHECK(s.rate_overall == doctest::Approx(200));
}

TEST_CASE("a run's JSON") {
  RunRecord r{.name = "rpc resnet50", .mode = "rpc", .workload = "resnet50"};
  r.summary.iterations = 3;
  r.p50_us = 10;
  r.round_trips = 318;
  const auto j = r.to_json(50.0);
  CHECK(j["available"] == true);
  CHECK(j["iterations"] == 3);
  CHECK(j["latency_us"]["p50"] == 10.0);
  CHECK(j["per_iteration"]["round_trips"] == 318.0);
  CHECK(j["floor_us"].is_null());

  RunRecord n{.name = "ideal", .available = false, .reason = "refused"};
  const auto k = n.to_json(50.0);
  CHECK(k["available"] == false);
  CHECK(k["reason"] == "refused");
  CHECK(!k.contains("latency_us"));
}

TEST_CASE("the floor is explained once, and ideal when an ideal run has a floor") {
  RunRecord rpc{.name = "rpc cnn", .mode = "rpc", .workload = "cnn"};
  RunRecord ideal{.name = "ideal cnn", .mode = "ideal", .workload = "cnn"};
  CHECK(floor_explanation(std::vector<RunRecord>{rpc, ideal}).empty());  // no floor: nothing to explain

  rpc.round_trips = 16;
  rpc.p50_us = 3000;
  rpc.floor_us = 2000;
  CHECK(rpc.counts_line().find("floor 2.000 ms, median/floor 1.50") != std::string::npos);
  const std::vector<std::string> floor_only = floor_explanation(std::vector<RunRecord>{rpc, ideal});
  REQUIRE(!floor_only.empty());
  CHECK(floor_only.front().starts_with("Floor: the emulated link's RTT"));

  ideal.floor_us = 2000;
  const std::vector<std::string> both = floor_explanation(std::vector<RunRecord>{rpc, ideal});
  std::string text;  // the lines joined back into paragraphs
  for (const std::string& line : both) {
    CHECK(line.size() <= 119);  // the table's width
    text += line.starts_with("  ") ? line.substr(1) : "\n" + line;
  }
  CHECK(both.size() > floor_only.size());
  CHECK(text.find("RTT + the program's own input and output bytes over the link's bandwidth + the server's compute "
                  "per inference: the least one round trip per inference can take") != std::string::npos);
  CHECK(text.find("\nIdeal: no client library") != std::string::npos);
  CHECK(text.find("one ReplaySegment") != std::string::npos);
  CHECK(text.find("the floor's compute is another run's estimate") != std::string::npos);
}

TEST_CASE("several clients: throughput together over the window, each client's latencies, the spread") {
  ConcurrentOutcome outcome;
  outcome.window = std::chrono::milliseconds(500);
  ClientRun a, b;
  a.outcome.iterations = 4;
  a.outcome.wall_ns = 400'000'000;  // 10 per second
  a.samples_ns = {100'000'000, 100'000'000, 100'000'000, 100'000'000};
  b.outcome.iterations = 2;
  b.outcome.wall_ns = 400'000'000;  // 5 per second
  b.samples_ns = {150'000'000, 250'000'000};
  outcome.clients = {a, b};
  const ClientsRecord r = summarise_clients(outcome, 50.0);
  REQUIRE(r.per_client.size() == 2);
  CHECK(r.window_s == doctest::Approx(0.5));
  CHECK(r.aggregate_per_second == doctest::Approx(12.0));  // 6 iterations in 0.5 s
  CHECK(r.per_client[0].per_second == doctest::Approx(10.0));
  CHECK(r.per_client[1].per_second == doctest::Approx(5.0));
  CHECK(r.spread == doctest::Approx(2.0));
  CHECK(r.per_client[1].p50_us == doctest::Approx(150'000.0));
  CHECK(r.per_client[1].summary.p99_us == doctest::Approx(250'000.0));

  const auto j = r.to_json();
  CHECK(j["count"] == 2);
  CHECK(j["device_busy"].is_null());
  CHECK(j["devices"].is_null());
  CHECK(j["per_client"][0]["iterations"] == 4);

  ClientsRecord measured = r;
  measured.device_busy_s = std::vector<double>{0.25, 0.0};
  const auto busy = measured.to_json()["device_busy"];
  REQUIRE(busy.size() == 2);
  CHECK(busy[0]["device"] == 0);
  CHECK(busy[0]["fraction"] == doctest::Approx(0.5));
  CHECK(busy[1]["busy_s"] == doctest::Approx(0.0));
}
