// What the server side tells clients in its Info reply: where its rrto-server
// is and, when it chose them, the host devices that server has.
//
//   "rrto=HOST:PORT"                              (HOST empty: the host the client reached)
//   "rrto=HOST:PORT devices=4 time_scale_us=2.5 status=HOST:PORT"
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace rrto::perf {

struct ServerInfo {
  std::string rrto_address;               // host:port, or :port
  std::optional<uint32_t> devices;        // unknown unless the server side wrote the config
  std::optional<double> time_scale_us;
  std::string status_address;  // its status endpoint, host:port or :port; empty if none
};

std::string format_server_info(const ServerInfo& info);
// False when `text` does not start with "rrto=" or a known key has a bad value.
bool parse_server_info(const std::string& text, ServerInfo& out);

}  // namespace rrto::perf
