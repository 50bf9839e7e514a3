#include "server/status/status_json.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace rrto::server {
namespace {

using json = nlohmann::ordered_json;

json server_json(const StatusView& view) {
  const MetricValues& m = view.metrics;
  json refusals = json::object();
  for (size_t i = 0; i < kRefusalKinds; ++i) refusals[std::string(refusal_name(static_cast<Refusal>(i)))] = m.refusals[i];
  return {{"version", view.identity.version},
          {"backend", view.identity.backend},
          {"listen", view.identity.listen},
          {"uptime_seconds", view.uptime_seconds},
          {"connections", m.connections},
          {"sessions", view.sessions.size()},
          {"sessions_admitted", m.sessions_admitted},
          {"sessions_ended", m.sessions_ended},
          {"refusals", refusals},
          {"protocol_errors", m.protocol_errors},
          {"bytes_in", m.bytes_in},
          {"messages_in", m.messages_in},
          {"bytes_out", m.bytes_out},
          {"messages_out", m.messages_out}};
}

json devices_json(const StatusView& view) {
  json devices = json::array();
  const size_t count = std::min(view.metrics.devices.size(), view.identity.devices.size());
  for (size_t i = 0; i < count; ++i) {
    const DeviceMetricValues& d = view.metrics.devices[i];
    devices.push_back({{"index", i},
                       {"name", view.identity.devices[i].name},
                       {"memory_total", view.identity.devices[i].memory_total},
                       {"memory_used", d.memory_bytes},
                       {"sessions", d.sessions},
                       {"busy_ns", d.busy_ns},
                       {"queue_depth", d.queue_depth},
                       {"batches", d.batches},
                       {"replays", d.replays},
                       {"inferences", d.inferences}});
  }
  return devices;
}

json sessions_json(const StatusView& view) {
  json sessions = json::array();
  for (const SessionInfo& s : view.sessions) {
    sessions.push_back({{"id", s.id},
                        {"client", s.client},
                        {"peer", s.peer},
                        {"device", s.device},
                        {"memory", s.memory_bytes},
                        {"templates", s.templates},
                        {"batches", s.batches}});
  }
  return sessions;
}

}  // namespace

std::string render_status_json(const StatusView& view) {
  const json doc = {{"server", server_json(view)}, {"devices", devices_json(view)}, {"sessions", sessions_json(view)}};
  // Client names are made printable ASCII, but replace rather than throw on anything else.
  return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace rrto::server
