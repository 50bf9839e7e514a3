// Everything the status endpoint shows, taken at one request: the server's
// fixed facts, its counters and the session board. The renderers
// (prometheus.h, status_json.h) turn a StatusView into text.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "server/metrics.h"
#include "server/status/session_board.h"

namespace rrto::server {

struct DeviceIdentity {
  std::string name;
  uint64_t memory_total = 0;
};

// What does not change while the server runs.
struct ServerIdentity {
  std::string version;
  std::string backend;  // "host" | "cuda"
  std::string listen;   // where clients connect, "host:port"
  std::vector<DeviceIdentity> devices;
};

struct StatusView {
  ServerIdentity identity;
  double uptime_seconds = 0;
  MetricValues metrics;
  std::vector<SessionInfo> sessions;
};

// Reads the counters and the board; safe on any thread.
class StatusSource {
 public:
  StatusSource(ServerIdentity identity, const Metrics& metrics, const SessionBoard& board)
      : identity_(std::move(identity)), metrics_(metrics), board_(board) {}

  StatusView view() const;

 private:
  const ServerIdentity identity_;
  const Metrics& metrics_;
  const SessionBoard& board_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace rrto::server
