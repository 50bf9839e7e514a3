#include "server/status/prometheus.h"

#include <algorithm>
#include <iterator>

#include <fmt/format.h>

namespace rrto::server {
namespace {

struct ServerMetric {
  std::string_view name, type, help;
  uint64_t (*value)(const MetricValues&);
};

constexpr ServerMetric kServerMetrics[] = {
    {"rrto_connections", "gauge", "Client connections open.", [](const MetricValues& v) { return v.connections; }},
    {"rrto_sessions_admitted_total", "counter", "Sessions whose Hello was accepted.",
     [](const MetricValues& v) { return v.sessions_admitted; }},
    {"rrto_sessions_ended_total", "counter", "Sessions ended (client gone, protocol error or shutdown).",
     [](const MetricValues& v) { return v.sessions_ended; }},
    {"rrto_protocol_errors_total", "counter", "Malformed requests; each closed its connection.",
     [](const MetricValues& v) { return v.protocol_errors; }},
    {"rrto_received_bytes_total", "counter", "Bytes of the requests received (metadata and bulk).",
     [](const MetricValues& v) { return v.bytes_in; }},
    {"rrto_received_messages_total", "counter", "Requests received.",
     [](const MetricValues& v) { return v.messages_in; }},
    {"rrto_sent_bytes_total", "counter", "Bytes of the replies sent (metadata and bulk).",
     [](const MetricValues& v) { return v.bytes_out; }},
    {"rrto_sent_messages_total", "counter", "Replies sent.", [](const MetricValues& v) { return v.messages_out; }},
};

struct DeviceMetric {
  std::string_view name, type, help;
  uint64_t (*value)(const DeviceMetricValues&, const DeviceIdentity&);
  bool nanoseconds = false;  // exposed in seconds, as Prometheus names time
};

constexpr DeviceMetric kDeviceMetrics[] = {
    {"rrto_device_sessions", "gauge", "Sessions placed on the device.",
     [](const DeviceMetricValues& v, const DeviceIdentity&) { return v.sessions; }},
    {"rrto_device_memory_used_bytes", "gauge", "Device memory allocated by its sessions.",
     [](const DeviceMetricValues& v, const DeviceIdentity&) { return v.memory_bytes; }},
    {"rrto_device_memory_total_bytes", "gauge", "Device memory.",
     [](const DeviceMetricValues&, const DeviceIdentity& d) { return d.memory_total; }},
    {"rrto_device_busy_seconds_total", "counter", "Time spent running the sessions' batches.",
     [](const DeviceMetricValues& v, const DeviceIdentity&) { return v.busy_ns; }, true},
    {"rrto_device_queue_depth", "gauge", "Batches waiting for the device.",
     [](const DeviceMetricValues& v, const DeviceIdentity&) { return v.queue_depth; }},
    {"rrto_device_batches_total", "counter", "Requests (batches of calls) run.",
     [](const DeviceMetricValues& v, const DeviceIdentity&) { return v.batches; }},
    {"rrto_device_replays_total", "counter", "Replay segments run (ReplaySegment calls).",
     [](const DeviceMetricValues& v, const DeviceIdentity&) { return v.replays; }},
    {"rrto_device_inferences_total", "counter",
     "Inferences served: successful batches holding a ReplaySegment or ending in a copy to the host.",
     [](const DeviceMetricValues& v, const DeviceIdentity&) { return v.inferences; }},
};

// A label value: backslash, double quote and newline escaped.
std::string label_value(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void server_metrics(std::string& out, const StatusView& view) {
  auto line = std::back_inserter(out);
  header(out, "rrto_build_info", "gauge", "The server's version and backend.");
  fmt::format_to(line, "rrto_build_info{{version=\"{}\",backend=\"{}\"}} 1\n", label_value(view.identity.version),
                 label_value(view.identity.backend));
  header(out, "rrto_uptime_seconds", "gauge", "Seconds since the server started.");
  fmt::format_to(line, "rrto_uptime_seconds {:.3f}\n", view.uptime_seconds);
  for (const ServerMetric& m : kServerMetrics) {
    header(out, m.name, m.type, m.help);
    fmt::format_to(line, "{} {}\n", m.name, m.value(view.metrics));
  }
  header(out, "rrto_session_refusals_total", "counter", "Hellos refused, by reason.");
  for (size_t i = 0; i < kRefusalKinds; ++i)
    fmt::format_to(line, "rrto_session_refusals_total{{reason=\"{}\"}} {}\n", refusal_name(static_cast<Refusal>(i)),
                   view.metrics.refusals[i]);
}

void device_metrics(std::string& out, const StatusView& view) {
  auto line = std::back_inserter(out);
  const std::vector<DeviceMetricValues>& values = view.metrics.devices;
  const std::vector<DeviceIdentity>& devices = view.identity.devices;
  const size_t count = std::min(values.size(), devices.size());
  header(out, "rrto_device_info", "gauge", "The devices the server serves, by index.");
  for (size_t i = 0; i < count; ++i)
    fmt::format_to(line, "rrto_device_info{{device=\"{}\",name=\"{}\"}} 1\n", i, label_value(devices[i].name));
  for (const DeviceMetric& m : kDeviceMetrics) {
    header(out, m.name, m.type, m.help);
    for (size_t i = 0; i < count; ++i) {
      const uint64_t value = m.value(values[i], devices[i]);
      if (m.nanoseconds)
        fmt::format_to(line, "{}{{device=\"{}\"}} {}.{:09}\n", m.name, i, value / 1000000000, value % 1000000000);
      else
        fmt::format_to(line, "{}{{device=\"{}\"}} {}\n", m.name, i, value);
    }
  }
}

}  // namespace

std::string render_prometheus(const StatusView& view) {
  std::string out;
  server_metrics(out, view);
  device_metrics(out, view);
  return out;
}

}  // namespace rrto::server
