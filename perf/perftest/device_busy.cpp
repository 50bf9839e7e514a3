#include "perf/perftest/device_busy.h"

#include <httplib.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/config.h"

namespace rrto::perf {

std::optional<std::vector<uint64_t>> read_device_busy_ns(const std::string& status_address, std::string& error) {
  config::ServerAddress where;
  if (!config::parse_host_port(status_address, where) || where.port == 0) {
    error = fmt::format("'{}' is not host:port", status_address);
    return std::nullopt;
  }
  httplib::Client http(where.host, where.port);
  http.set_connection_timeout(5);
  http.set_read_timeout(5);
  const httplib::Result reply = http.Get("/status");
  if (!reply || reply->status != 200) {
    error = fmt::format("no /status from {}", status_address);
    return std::nullopt;
  }
  const nlohmann::json doc = nlohmann::json::parse(reply->body, nullptr, false);
  if (!doc.is_object() || !doc.contains("devices") || !doc["devices"].is_array()) {
    error = fmt::format("{}: /status has no devices", status_address);
    return std::nullopt;
  }
  std::vector<uint64_t> busy;
  for (const nlohmann::json& device : doc["devices"]) {
    if (!device.is_object() || !device.contains("busy_ns") || !device["busy_ns"].is_number_unsigned()) {
      error = fmt::format("{}: a device of /status has no busy_ns", status_address);
      return std::nullopt;
    }
    busy.push_back(device["busy_ns"].get<uint64_t>());
  }
  return busy;
}

}  // namespace rrto::perf
