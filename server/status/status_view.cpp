#include "server/status/status_view.h"

namespace rrto::server {

StatusView StatusSource::view() const {
  const std::chrono::duration<double> uptime = std::chrono::steady_clock::now() - started_;
  return {.identity = identity_, .uptime_seconds = uptime.count(), .metrics = metrics_.read(), .sessions = board_.list()};
}

}  // namespace rrto::server
