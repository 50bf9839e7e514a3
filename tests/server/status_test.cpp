// The status endpoint's pieces without HTTP: the counters, what the session
// manager records in them, and the /metrics, /status and --status texts.
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "server/metrics.h"
#include "server/status/prometheus.h"
#include "server/status/status_json.h"
#include "server/status/status_recorder.h"
#include "server/status/status_table.h"
#include "tests/server/harness.h"

using namespace rrto;
using namespace rrto::server;
using namespace rrto::server::test;

namespace {

StatusView sample_view() {
  StatusView view;
  view.identity = {.version = "1.2.3",
                   .backend = "host",
                   .listen = "0.0.0.0:18515",
                   .devices = {{.name = "first", .memory_total = 1 << 30}, {.name = R"(odd "name" \ here)", .memory_total = 2048}}};
  view.uptime_seconds = 12.5;
  MetricValues& m = view.metrics;
  m.connections = 2;
  m.sessions_admitted = 5;
  m.sessions_ended = 3;
  m.refusals[static_cast<size_t>(Refusal::Auth)] = 4;
  m.refusals[static_cast<size_t>(Refusal::Version)] = 1;
  m.protocol_errors = 6;
  m.bytes_in = 1000;
  m.messages_in = 10;
  m.bytes_out = 500;
  m.messages_out = 9;
  m.devices = {{.sessions = 2, .memory_bytes = 4096, .busy_ns = 1500000000, .batches = 40, .replays = 30, .inferences = 31},
               {.busy_ns = 7, .queue_depth = 3}};
  view.sessions = {{.id = 4, .client = "resnet (pid 1)", .peer = "10.0.0.7:5000", .device = 0, .memory_bytes = 4096,
                    .templates = 1, .batches = 40},
                   {.id = 9, .client = "other", .peer = "10.0.0.8:5000", .device = 0}};
  return view;
}

// Sample lines of a Prometheus text: "name{labels}" -> value.
std::map<std::string, std::string> samples(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    out[line.substr(0, space)] = line.substr(space + 1);
  }
  return out;
}

}  // namespace

TEST_CASE("metrics: counters per server and per device; a device past the end is ignored") {
  Metrics metrics(2);
  metrics.session_admitted(1);
  metrics.session_admitted(1);
  metrics.session_ended(1);
  metrics.add_memory(1, 1000);
  metrics.add_memory(1, -400);
  metrics.add_busy(0, 25);
  metrics.set_queue_depth(0, 7);
  metrics.batch_ran(0, 3, true);
  metrics.batch_ran(0, 0, false);
  metrics.refused(Refusal::Full);
  metrics.received(100);
  metrics.sent(40);
  metrics.add_memory(2, 5);
  metrics.batch_ran(9, 1, true);
  const MetricValues v = metrics.read();
  CHECK(v.sessions_admitted == 2);
  CHECK(v.sessions_ended == 1);
  CHECK(v.refusals[static_cast<size_t>(Refusal::Full)] == 1);
  CHECK(v.bytes_in == 100);
  CHECK(v.messages_in == 1);
  CHECK(v.bytes_out == 40);
  REQUIRE(v.devices.size() == 2);
  CHECK(v.devices[1].sessions == 1);
  CHECK(v.devices[1].memory_bytes == 600);
  CHECK(v.devices[0].busy_ns == 25);
  CHECK(v.devices[0].queue_depth == 7);
  CHECK(v.devices[0].batches == 2);
  CHECK(v.devices[0].replays == 3);
  CHECK(v.devices[0].inferences == 1);
  CHECK(v.devices[1].batches == 0);
}

TEST_CASE("an inference is a batch with a ReplaySegment or ending in a copy to the host") {
  const DecodedCall replay{proto::ReplaySegment{.tmpl = 1}};
  const DecodedCall launch{proto::Launch{.function = 1}};
  const DecodedCall down{proto::MemcpyDtoH{.src = 1, .size = 4}};
  auto inference = [](std::vector<DecodedCall> calls) { return is_inference(calls, summarize(calls).replay_segments); };
  CHECK(inference({launch, down}));
  CHECK(inference({replay}));
  CHECK(inference({replay, launch}));
  CHECK_FALSE(inference({launch}));
  CHECK_FALSE(inference({}));
  CHECK(replay_segments(std::vector{replay, launch, replay}, 3) == 2);
  CHECK(replay_segments(std::vector{replay, launch, replay}, 2) == 1);
  CHECK(replay_segments(std::vector{replay}, 5) == 1);
}

TEST_CASE("the session manager records sessions, refusals, bytes, batches, inferences and memory") {
  // Declared first: the harness's session manager shows sessions on it until it is gone.
  SessionBoard board;
  Harness h({.device_memory_mb = {64, 64}});
  h.manager().status().show_on(board);
  const Metrics& metrics = h.manager().metrics();

  const transport::PeerId a = h.open_session();  // device 0
  const transport::PeerId b = h.open_session();  // device 1
  const transport::PeerId refused = h.connect();
  CHECK(h.hello(refused, {}, proto::kProtocolVersion + 1).closed);
  CHECK(metrics.read().connections == 2);

  const uint64_t dptr = h.alloc(b, 1 << 20);
  const float value = 3.0f;
  REQUIRE(h.write(b, dptr, &value, sizeof(value)).status == CUDA_SUCCESS);
  REQUIRE(h.read(b, dptr, sizeof(value)).status == CUDA_SUCCESS);
  CHECK(h.read(b, dptr + (1 << 20), sizeof(value)).status != CUDA_SUCCESS);  // failed: no inference

  MetricValues v = metrics.read();
  CHECK(v.sessions_admitted == 2);
  CHECK(v.refusals[static_cast<size_t>(Refusal::Version)] == 1);
  // Two handshakes of two messages, one refused Hello, four batches.
  CHECK(v.messages_in == 9);
  CHECK(v.messages_out == 9);
  CHECK(v.bytes_in > sizeof(value));
  CHECK(v.bytes_out > sizeof(value));
  CHECK(v.devices[0].sessions == 1);
  CHECK(v.devices[1].sessions == 1);
  CHECK(v.devices[1].batches == 5);
  CHECK(v.devices[1].inferences == 1);
  CHECK(v.devices[1].memory_bytes == 1 << 20);
  CHECK(v.devices[0].memory_bytes == 0);

  std::vector<SessionInfo> sessions = board.list();
  REQUIRE(sessions.size() == 2);
  CHECK(sessions[1].client == "harness");
  CHECK(sessions[1].device == 1);
  CHECK(sessions[1].memory_bytes == 1 << 20);
  CHECK(sessions[1].batches == 5);
  CHECK(sessions[1].peer.find("10.0.0.") == 0);

  h.disconnect(b);
  v = metrics.read();
  CHECK(v.sessions_ended == 1);
  CHECK(v.connections == 1);
  CHECK(v.devices[1].sessions == 0);
  CHECK(v.devices[1].memory_bytes == 0);
  CHECK(board.list().size() == 1);

  // A malformed request closes the connection and is counted.
  const uint8_t junk[] = {1, 2, 3};
  CHECK(h.send_raw(a, proto::kBatchRequest, junk, {}).closed);
  v = metrics.read();
  CHECK(v.protocol_errors == 1);
  CHECK(v.sessions_ended == 2);
  CHECK(board.list().empty());
}

TEST_CASE("/metrics: every sample has HELP and TYPE, names are rrto_, devices are labelled") {
  const std::string text = render_prometheus(sample_view());
  const auto values = samples(text);
  CHECK(values.at(R"(rrto_build_info{version="1.2.3",backend="host"})") == "1");
  CHECK(values.at("rrto_connections") == "2");
  CHECK(values.at("rrto_sessions_admitted_total") == "5");
  CHECK(values.at(R"(rrto_session_refusals_total{reason="auth"})") == "4");
  CHECK(values.at(R"(rrto_session_refusals_total{reason="no_device"})") == "0");
  CHECK(values.at("rrto_protocol_errors_total") == "6");
  CHECK(values.at("rrto_received_bytes_total") == "1000");
  CHECK(values.at("rrto_sent_messages_total") == "9");
  CHECK(values.at(R"(rrto_device_busy_seconds_total{device="0"})") == "1.500000000");
  CHECK(values.at(R"(rrto_device_busy_seconds_total{device="1"})") == "0.000000007");
  CHECK(values.at(R"(rrto_device_memory_used_bytes{device="0"})") == "4096");
  CHECK(values.at(R"(rrto_device_memory_total_bytes{device="1"})") == "2048");
  CHECK(values.at(R"(rrto_device_queue_depth{device="1"})") == "3");
  CHECK(values.at(R"(rrto_device_inferences_total{device="0"})") == "31");
  CHECK(values.at(R"(rrto_device_replays_total{device="0"})") == "30");
  CHECK(values.count(R"(rrto_device_info{device="1",name="odd \"name\" \\ here"})") == 1);

  // Each family is declared once, before its samples.
  std::set<std::string> typed, helped;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string first, name;
    words >> first;
    if (first == "#") {
      std::string kind;
      words >> kind >> name;
      CHECK_MESSAGE((kind == "TYPE" ? typed : helped).insert(name).second, "declared twice: ", name);
      continue;
    }
    name = first.substr(0, first.find('{'));
    CHECK_MESSAGE(name.rfind("rrto_", 0) == 0, line);
    CHECK_MESSAGE(typed.count(name) == 1, "no TYPE before: ", line);
    CHECK_MESSAGE(helped.count(name) == 1, "no HELP before: ", line);
  }
}

TEST_CASE("/status: server, devices and sessions as JSON") {
  const auto doc = nlohmann::json::parse(render_status_json(sample_view()));
  CHECK(doc["server"]["version"] == "1.2.3");
  CHECK(doc["server"]["listen"] == "0.0.0.0:18515");
  CHECK(doc["server"]["sessions"] == 2);
  CHECK(doc["server"]["sessions_admitted"] == 5);
  CHECK(doc["server"]["refusals"]["auth"] == 4);
  CHECK(doc["server"]["bytes_out"] == 500);
  REQUIRE(doc["devices"].size() == 2);
  CHECK(doc["devices"][1]["name"] == R"(odd "name" \ here)");
  CHECK(doc["devices"][0]["busy_ns"] == 1500000000);
  CHECK(doc["devices"][0]["inferences"] == 31);
  REQUIRE(doc["sessions"].size() == 2);
  CHECK(doc["sessions"][0]["id"] == 4);
  CHECK(doc["sessions"][0]["client"] == "resnet (pid 1)");
  CHECK(doc["sessions"][0]["memory"] == 4096);
  CHECK(doc["sessions"][0]["templates"] == 1);
  CHECK(doc["sessions"][0]["batches"] == 40);
}

TEST_CASE("--status: the /status JSON as tables; anything else is refused") {
  std::string table, error;
  REQUIRE_MESSAGE(format_status_table(render_status_json(sample_view()), "127.0.0.1:9464", table, error), error);
  CAPTURE(table);
  CHECK(table.find("rrto-server 1.2.3 (status at 127.0.0.1:9464): host backend, clients connect to 0.0.0.0:18515") == 0);
  CHECK(table.find("sessions 2 (admitted 5, ended 3), refused 5 (auth 4, full 0, version 1, no_device 0)") !=
        std::string::npos);
  CHECK(table.find("received 1000 B in 10 requests, sent 500 B in 9 replies") != std::string::npos);
  CHECK(table.find("0       first") != std::string::npos);
  CHECK(table.find("1.500s") != std::string::npos);
  CHECK(table.find("resnet (pid 1)") != std::string::npos);
  CHECK(table.find("4.0 KiB") != std::string::npos);

  CHECK_FALSE(format_status_table("not json", "x", table, error));
  CHECK_FALSE(format_status_table(R"({"server": {}})", "x", table, error));
  CHECK(error.find("not an rrto-server status") != std::string::npos);
}
