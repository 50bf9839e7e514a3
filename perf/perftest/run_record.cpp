#include "perf/perftest/run_record.h"

#include <algorithm>

#include <fmt/format.h>

namespace rrto::perf {
namespace {

std::string bytes_text(double bytes) {
  if (bytes >= 1e6) return fmt::format("{:.2f} MB", bytes / 1e6);
  if (bytes >= 1e3) return fmt::format("{:.1f} kB", bytes / 1e3);
  return fmt::format("{:.0f} B", bytes);
}

template <typename T>
nlohmann::json optional(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

// `text` in lines of at most `width` characters, broken at spaces, every
// line after the first indented by two.
void wrap(const std::string& text, size_t width, std::vector<std::string>& lines) {
  std::string line;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find(' ', at);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(at, end - at);
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      lines.push_back(line);
      line = "  ";
    } else if (!line.empty() && line != "  ") {
      line += ' ';
    }
    line += word;
    at = end + 1;
  }
  if (!line.empty()) lines.push_back(line);
}

constexpr size_t kNoteWidth = 117;

constexpr const char* kFloorText =
    "Floor: the emulated link's RTT + the program's own input and output bytes over the link's bandwidth + the "
    "server's compute per inference: the least one round trip per inference can take (with no link emulated, the "
    "compute alone). The compute is measured once per workload, before its modes run: rrto-perf-workload in async "
    "mode, no emulated link, CUDA events around the inference's kernels, the median of at most 20 inferences after "
    "at most 3 warm-up ones. median/floor is a run's median latency over its floor.";

constexpr const char* kIdealText =
    "Ideal: no client library: rrto-perf-workload speaks the protocol itself. After its first iteration it registers "
    "the iteration's operators as a template, then sends each synchronisation point of an inference as one "
    "ReplaySegment (inputs and changed kernel arguments up, outputs back in its reply): the least a hand-written "
    "inference server would send. Its latency is the program's whole iteration, timed as in the other modes, with "
    "at least the round trip the floor counts. It can still come out below the floor because the floor's compute is "
    "another run's estimate: a short run with its own noise, and for a workload that copies back mid-inference "
    "(detector) an interval that also spans that copy's loopback round trip and the client library's issuing of the "
    "launches after it. median/floor under 1 then means that estimate was above what the server took in this run, "
    "not that a round trip was saved. replay can also be below the floor when its uploads go compressed: the floor "
    "counts the program's bytes as they are.";

}  // namespace

nlohmann::json RunRecord::to_json(double rank) const {
  nlohmann::json j = {{"name", name},
                      {"mode", mode.empty() ? nlohmann::json(nullptr) : nlohmann::json(mode)},
                      {"workload", workload.empty() ? nlohmann::json(nullptr) : nlohmann::json(workload)},
                      {"size", size ? nlohmann::json(size) : nlohmann::json(nullptr)},
                      {"available", available},
                      {"failed", failed}};
  if (!available || failed) {
    j["reason"] = reason;
    return j;
  }
  j["iterations"] = summary.iterations;
  j["warmup"] = warmup;
  j["latency_us"] = {{"p50", p50_us},
                     {"p99", summary.p99_us},
                     {"percentile_rank", rank},
                     {"percentile", summary.percentile_us},
                     {"average", summary.average_us},
                     {"overall", summary.overall_us},
                     {"min", summary.min_us},
                     {"max", summary.max_us}};
  j["bandwidth_mbs"] = {{"average", summary.bandwidth_average}, {"overall", summary.bandwidth_overall}};
  j["message_rate"] = {{"average", summary.rate_average}, {"overall", summary.rate_overall}};
  j["transport"] = transport;
  j["client_link"] = client_link.empty() ? nlohmann::json(nullptr) : nlohmann::json(client_link);
  j["per_iteration"] = {{"round_trips", optional(round_trips)},
                        {"bytes_up", optional(bytes_up)},
                        {"bytes_down", optional(bytes_down)},
                        {"payload_up", payload_up},
                        {"payload_down", payload_down}};
  j["server_compute_us"] = optional(server_compute_us);
  j["floor_us"] = optional(floor_us);
  j["checksum"] = checksum.empty() ? nlohmann::json(nullptr) : nlohmann::json(checksum);
  j["outputs_match"] = optional(outputs_match);
  if (clients) j["clients"] = clients->to_json();
  return j;
}

nlohmann::json ClientsRecord::to_json() const {
  nlohmann::json each = nlohmann::json::array();
  for (const PerClient& c : per_client)
    each.push_back({{"iterations", c.summary.iterations},
                    {"latency_us", {{"p50", c.p50_us}, {"p99", c.summary.p99_us}}},
                    {"per_second", c.per_second}});
  return {{"count", per_client.size()},
          {"window_s", window_s},
          {"aggregate_per_second", aggregate_per_second},
          {"spread", spread},
          {"per_client", each},
          {"devices", optional(devices)},
          {"time_scale_us", optional(time_scale_us)},
          {"device_busy", busy_json()}};
}

nlohmann::json ClientsRecord::busy_json() const {
  if (!device_busy_s) return nullptr;
  nlohmann::json devices = nlohmann::json::array();
  for (size_t i = 0; i < device_busy_s->size(); ++i)
    devices.push_back({{"device", i},
                       {"busy_s", (*device_busy_s)[i]},
                       {"fraction", window_s > 0 ? (*device_busy_s)[i] / window_s : 0.0}});
  return devices;
}

std::string ClientsRecord::summary_line() const {
  auto range = [&](auto value) {
    double lo = 0, hi = 0;
    for (size_t i = 0; i < per_client.size(); ++i) {
      const double v = value(per_client[i]);
      lo = i == 0 ? v : std::min(lo, v);
      hi = i == 0 ? v : std::max(hi, v);
    }
    return fmt::format("{:.3f}-{:.3f} ms", lo / 1e3, hi / 1e3);
  };
  std::string line = fmt::format(
      "Clients: {} at once, {:.1f} inferences/s together over {:.3f} s; per client: median {}, p99 {}, "
      "throughput max/min {:.2f}",
      per_client.size(), aggregate_per_second, window_s, range([](const PerClient& c) { return c.p50_us; }),
      range([](const PerClient& c) { return c.summary.p99_us; }), spread);
  if (devices) line += fmt::format("; server: {} host device(s), time scale {:g} us per block", *devices,
                                   time_scale_us.value_or(0));
  if (device_busy_s && window_s > 0) {
    line += "; device busy";
    for (double busy : *device_busy_s) line += fmt::format(" {:.0f}%", 100 * busy / window_s);
  }
  return line;
}

std::string RunRecord::counts_line() const {
  if (!round_trips) return {};
  std::string line = fmt::format("Per iteration: {:.2f} round trips, {} up, {} down", *round_trips,
                                 bytes_text(bytes_up.value_or(0)), bytes_text(bytes_down.value_or(0)));
  if (payload_up || payload_down)
    line += fmt::format(" (the program's own: {} up, {} down)", bytes_text(static_cast<double>(payload_up)),
                        bytes_text(static_cast<double>(payload_down)));
  if (server_compute_us) line += fmt::format("; server compute {:.3f} ms", *server_compute_us / 1e3);
  if (floor_us && *floor_us > 0)
    line += fmt::format("; floor {:.3f} ms, median/floor {:.2f}", *floor_us / 1e3, p50_us / *floor_us);
  if (outputs_match && !*outputs_match) line += "; OUTPUTS DIFFER from the first mode's";
  return line;
}

std::vector<std::string> floor_explanation(std::span<const RunRecord> records) {
  bool floor = false, ideal = false;
  for (const RunRecord& r : records) {
    floor |= r.floor_us.has_value();
    ideal |= r.floor_us.has_value() && r.mode == "ideal";
  }
  std::vector<std::string> lines;
  if (!floor) return lines;
  wrap(kFloorText, kNoteWidth, lines);
  if (ideal) wrap(kIdealText, kNoteWidth, lines);
  return lines;
}

}  // namespace rrto::perf
