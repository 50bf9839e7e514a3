// The busy time of each device of an rrto-server, read from its status
// endpoint's /status (server/README.md), for the clients test's report.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rrto::perf {

// Each device's busy time so far, in nanoseconds; nullopt (and `error` says
// why) when the endpoint at host:port does not answer with a status document.
std::optional<std::vector<uint64_t>> read_device_busy_ns(const std::string& status_address, std::string& error);

}  // namespace rrto::perf
