#include "server/status/status_table.h"

#include <algorithm>
#include <iterator>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "server/byte_size.h"

namespace rrto::server {
namespace {

using json = nlohmann::ordered_json;  // keeps the order the server wrote

std::string human_duration(double seconds) {
  const uint64_t s = static_cast<uint64_t>(seconds);
  if (s >= 86400) return fmt::format("{}d {}h {}m", s / 86400, s % 86400 / 3600, s % 3600 / 60);
  if (s >= 3600) return fmt::format("{}h {}m {}s", s / 3600, s % 3600 / 60, s % 60);
  if (s >= 60) return fmt::format("{}m {}s", s / 60, s % 60);
  return fmt::format("{:.1f}s", seconds);
}

// Columns padded to their widest cell; the first row is the header.
std::string format_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) line += fmt::format("{:<{}}", row[c], c + 1 < row.size() ? widths[c] + 2 : 0);
    out += line + '\n';
  }
  return out;
}

uint64_t number(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

std::string text(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string("?");
}

std::string summary(const json& server, std::string_view from) {
  const json& refusals = server.contains("refusals") ? server["refusals"] : json::object();
  uint64_t refused = 0;
  std::string reasons;
  for (const auto& [reason, count] : refusals.items()) {
    refused += count.is_number_unsigned() ? count.get<uint64_t>() : 0;
    reasons += fmt::format("{}{} {}", reasons.empty() ? "" : ", ", reason, count.dump());
  }
  const double uptime = server.value("uptime_seconds", 0.0);
  return fmt::format(
      "rrto-server {} (status at {}): {} backend, clients connect to {}, up {}\n"
      "connections {}, sessions {} (admitted {}, ended {}), refused {} ({}), protocol errors {}\n"
      "received {} in {} requests, sent {} in {} replies\n",
      text(server, "version"), from, text(server, "backend"), text(server, "listen"), human_duration(uptime),
      number(server, "connections"), number(server, "sessions"), number(server, "sessions_admitted"),
      number(server, "sessions_ended"), refused, reasons, number(server, "protocol_errors"),
      format_bytes(number(server, "bytes_in")), number(server, "messages_in"), format_bytes(number(server, "bytes_out")),
      number(server, "messages_out"));
}

std::string devices_table(const json& devices) {
  std::vector<std::vector<std::string>> rows{
      {"DEVICE", "NAME", "SESSIONS", "MEMORY USED", "MEMORY TOTAL", "BUSY", "QUEUE", "BATCHES", "REPLAYS", "INFERENCES"}};
  for (const json& d : devices) {
    rows.push_back({std::to_string(number(d, "index")), text(d, "name"), std::to_string(number(d, "sessions")),
                    format_bytes(number(d, "memory_used")), format_bytes(number(d, "memory_total")),
                    fmt::format("{:.3f}s", number(d, "busy_ns") / 1e9), std::to_string(number(d, "queue_depth")),
                    std::to_string(number(d, "batches")), std::to_string(number(d, "replays")),
                    std::to_string(number(d, "inferences"))});
  }
  return format_table(rows);
}

std::string sessions_table(const json& sessions) {
  if (sessions.empty()) return "no sessions\n";
  std::vector<std::vector<std::string>> rows{{"SESSION", "CLIENT", "PEER", "DEVICE", "MEMORY", "TEMPLATES", "BATCHES"}};
  for (const json& s : sessions) {
    rows.push_back({std::to_string(number(s, "id")), text(s, "client"), text(s, "peer"),
                    std::to_string(number(s, "device")), format_bytes(number(s, "memory")),
                    std::to_string(number(s, "templates")), std::to_string(number(s, "batches"))});
  }
  return format_table(rows);
}

}  // namespace

bool format_status_table(std::string_view json_text, std::string_view from, std::string& table, std::string& error) {
  const json doc = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("server") || !doc["server"].is_object() ||
      !doc.contains("devices") || !doc["devices"].is_array() || !doc.contains("sessions") ||
      !doc["sessions"].is_array()) {
    error = "the reply is not an rrto-server status document";
    return false;
  }
  try {
    table = summary(doc["server"], from) + '\n' + devices_table(doc["devices"]) + '\n' + sessions_table(doc["sessions"]);
  } catch (const std::exception& e) {
    error = fmt::format("the status document is malformed: {}", e.what());
    return false;
  }
  return true;
}

}  // namespace rrto::server
