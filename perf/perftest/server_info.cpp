#include "perf/perftest/server_info.h"

#include <cstdlib>
#include <sstream>

#include <fmt/format.h>

namespace rrto::perf {

std::string format_server_info(const ServerInfo& info) {
  std::string text = "rrto=" + info.rrto_address;
  if (info.devices) text += fmt::format(" devices={}", *info.devices);
  if (info.time_scale_us) text += fmt::format(" time_scale_us={}", *info.time_scale_us);
  if (!info.status_address.empty()) text += " status=" + info.status_address;
  return text;
}

bool parse_server_info(const std::string& text, ServerInfo& out) {
  std::istringstream in(text);
  std::string item;
  if (!(in >> item) || item.rfind("rrto=", 0) != 0) return false;
  ServerInfo info;
  info.rrto_address = item.substr(5);
  while (in >> item) {
    const size_t eq = item.find('=');
    const std::string key = item.substr(0, eq), value = eq == std::string::npos ? "" : item.substr(eq + 1);
    char* end = nullptr;
    if (key == "devices") {
      const unsigned long n = std::strtoul(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || n == 0 || n > UINT32_MAX) return false;
      info.devices = static_cast<uint32_t>(n);
    } else if (key == "time_scale_us") {
      const double us = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || !(us >= 0)) return false;
      info.time_scale_us = us;
    } else if (key == "status") {
      info.status_address = value;
    }  // other keys: from a newer server side, ignored
  }
  out = std::move(info);
  return true;
}

}  // namespace rrto::perf
